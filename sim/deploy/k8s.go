package deploy

import (
	"bytes"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Files of the k8s target.
const (
	KustomizationFile = "kustomization.yaml"
	NamespaceFile     = "namespace.yaml"
	GenesisFile       = "genesis.yaml"
)

// Names of the genesis objects.
const (
	genesisClaim = "shardlab-genesis"
	genesisJob   = "shardlab-genesis"
)

// Sizing holds a role's resource requests and limits and its data volume.
type Sizing struct {
	CPURequest, MemoryRequest, MemoryLimit, Storage string
}

// Sizes per role: the 4 + 4 node testnet of `make run` (minimal preset,
// 10 tx/s) used at most 5% of a core and 35 MiB per node in containers
// (make e2e-docker); requests leave room for larger registries and load,
// limits for the mainnet preset (docs/deploy.md).
var Sizes = map[string]Sizing{
	"beacon": {CPURequest: "100m", MemoryRequest: "128Mi", MemoryLimit: "1Gi", Storage: "2Gi"},
	"shard":  {CPURequest: "200m", MemoryRequest: "256Mi", MemoryLimit: "2Gi", Storage: "4Gi"},
}

// kustomization is the kustomize.config.k8s.io/v1beta1 Kustomization the
// k8s target writes (not a Kubernetes API object).
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
}

// renderK8s renders the manifests: the namespace; a PVC and a Job that
// writes the genesis into it when applied; per node a headless Service
// (its stable DNS name, the bootnode address) and a one-replica
// StatefulSet with its own data volume; and a kustomization listing them.
func renderK8s(c Config, nodes []node) (map[string][]byte, error) {
	files := make(map[string][]byte)
	add := func(name string, objs ...any) error {
		var b bytes.Buffer
		for i, o := range objs {
			y, err := manifestYAML(o)
			if err != nil {
				return fmt.Errorf("render %s: %w", name, err)
			}
			if i > 0 {
				b.WriteString("---\n")
			}
			b.Write(y)
		}
		files[name] = b.Bytes()
		return nil
	}
	k := kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Namespace: c.Namespace,
		Resources: []string{NamespaceFile, GenesisFile}}
	ns := &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: c.Namespace, Labels: baseLabels()}}
	if err := add(NamespaceFile, ns); err != nil {
		return nil, err
	}
	claim, job := c.genesisObjects()
	if err := add(GenesisFile, claim, job); err != nil {
		return nil, err
	}
	addr := func(n node) string {
		return fmt.Sprintf("/dns4/%s/tcp/%d/p2p/%s", n.spec.Name, n.spec.P2PPort, n.peerID)
	}
	for i, n := range nodes {
		svc, sts := c.nodeObjects(n, c.args(nodes, i, addr))
		name := n.spec.Name + ".yaml"
		if err := add(name, svc, sts); err != nil {
			return nil, err
		}
		k.Resources = append(k.Resources, name)
	}
	y, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", KustomizationFile, err)
	}
	files[KustomizationFile] = y
	if c.Faults != nil {
		chaos, err := renderChaos(c, *c.Faults)
		if err != nil {
			return nil, err
		}
		for p, b := range chaos {
			files[p] = b
		}
	}
	return files, nil
}

// manifestYAML encodes an API object as a manifest: without the empty
// status and creation timestamps the API types always carry, which are the
// server's to fill.
func manifestYAML(obj any) ([]byte, error) {
	y, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(y, &m); err != nil {
		return nil, err
	}
	dropServerFields(m)
	return yaml.Marshal(m)
}

// dropServerFields removes every "status" and null "creationTimestamp"
// key under v.
func dropServerFields(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "status")
		if ts, ok := v["creationTimestamp"]; ok && ts == nil {
			delete(v, "creationTimestamp")
		}
		for _, x := range v {
			dropServerFields(x)
		}
	case []any:
		for _, x := range v {
			dropServerFields(x)
		}
	}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func baseLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "shardlab", "app.kubernetes.io/managed-by": "shardlab-render"}
}

// nodeLabels select one node's pod (Services, chaos selectors).
func nodeLabels(n node) map[string]string {
	l := baseLabels()
	l[labelNode], l[labelRole] = n.spec.Name, n.spec.Role
	return l
}

// podSecurity runs as the image's user; fsGroup makes volumes writable.
func podSecurity() *corev1.PodSecurityContext {
	uid, gid := int64(UID), int64(GID)
	yes := true
	return &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &gid, RunAsNonRoot: &yes}
}

func containerSecurity() *corev1.SecurityContext {
	no := false
	return &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
}

// genesisObjects are the genesis volume and the Job that fills it: it runs
// `shardlab genesis` when applied, so the genesis time is set then.
func (c Config) genesisObjects() (*corev1.PersistentVolumeClaim, *batchv1.Job) {
	labels := baseLabels()
	labels[labelRole] = "genesis"
	claim := &corev1.PersistentVolumeClaim{
		TypeMeta:   typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: metav1.ObjectMeta{Name: genesisClaim, Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("256Mi"),
			}},
		},
	}
	backoff := int32(3)
	job := &batchv1.Job{
		TypeMeta:   typeMeta("batch/v1", "Job"),
		ObjectMeta: metav1.ObjectMeta{Name: genesisJob, Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff, // a retry keeps a complete genesis (--keep-existing)
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:   corev1.RestartPolicyNever,
					SecurityContext: podSecurity(),
					Containers: []corev1.Container{{
						Name: "genesis", Image: c.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args:            c.genesisArgs(TargetK8s),
						VolumeMounts:    []corev1.VolumeMount{{Name: "genesis", MountPath: GenesisPath}},
						SecurityContext: containerSecurity(),
					}},
					Volumes: []corev1.Volume{genesisVolume(false)},
				},
			},
		},
	}
	return claim, job
}

func genesisVolume(readOnly bool) corev1.Volume {
	return corev1.Volume{Name: "genesis", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: genesisClaim, ReadOnly: readOnly},
	}}
}

// nodeObjects are a node's headless Service and StatefulSet.
func (c Config) nodeObjects(n node, args []string) (*corev1.Service, *appsv1.StatefulSet) {
	labels := nodeLabels(n)
	selector := map[string]string{labelNode: n.spec.Name}
	svc := &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: metav1.ObjectMeta{Name: n.spec.Name, Labels: labels},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// Peers resolve a node before its API is ready (before genesis,
			// while syncing).
			PublishNotReadyAddresses: true,
			Selector:                 selector,
			Ports: []corev1.ServicePort{
				{Name: "p2p", Port: K8sP2PPort, TargetPort: intstr.FromString("p2p"), Protocol: corev1.ProtocolTCP},
				{Name: "p2p-quic", Port: K8sP2PPort, TargetPort: intstr.FromString("p2p-quic"), Protocol: corev1.ProtocolUDP},
				{Name: "http", Port: K8sHTTPPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: K8sMetricsPort, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	size := Sizes[n.spec.Role]
	one, grace := int32(1), int64(15)
	sts := &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: metav1.ObjectMeta{Name: n.spec.Name, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &one,
			ServiceName:         n.spec.Name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"prometheus.io/scrape": "true",
					"prometheus.io/port":   strconv.Itoa(K8sMetricsPort),
					"prometheus.io/path":   "/metrics",
				}},
				Spec: corev1.PodSpec{
					SecurityContext:               podSecurity(),
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{
						Name: n.spec.Role, Image: c.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args: args,
						Ports: []corev1.ContainerPort{
							{Name: "p2p", ContainerPort: K8sP2PPort, Protocol: corev1.ProtocolTCP},
							{Name: "p2p-quic", ContainerPort: K8sP2PPort, Protocol: corev1.ProtocolUDP},
							{Name: "http", ContainerPort: K8sHTTPPort, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: K8sMetricsPort, Protocol: corev1.ProtocolTCP},
						},
						// 200 synced, 206 syncing: both ready; 503 before the
						// node serves (no genesis yet).
						ReadinessProbe: &corev1.Probe{
							ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Path: "/eth/v1/node/health", Port: intstr.FromString("http"),
							}},
							PeriodSeconds: 5, FailureThreshold: 3,
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse(size.CPURequest),
								corev1.ResourceMemory: resource.MustParse(size.MemoryRequest),
							},
							Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(size.MemoryLimit)},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "genesis", MountPath: GenesisPath, ReadOnly: true},
							{Name: "data", MountPath: HomePath},
						},
						SecurityContext: containerSecurity(),
					}},
					Volumes: []corev1.Volume{genesisVolume(true)},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: labels},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse(size.Storage),
					}},
				},
			}},
		},
	}
	return svc, sts
}
