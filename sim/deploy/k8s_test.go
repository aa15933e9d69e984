package deploy

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/shardlab/shardlab/sim/testnet"
)

// k8sObjects holds the decoded objects of the k8s target, by kind and name.
type k8sObjects struct {
	namespaces   map[string]*corev1.Namespace
	claims       map[string]*corev1.PersistentVolumeClaim
	jobs         map[string]*batchv1.Job
	services     map[string]*corev1.Service
	statefulSets map[string]*appsv1.StatefulSet
}

// splitDocs splits a multi-document YAML file.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// decodeK8s decodes every document of a Kubernetes manifest strictly
// (unknown or duplicate fields are errors) into the official API type of
// its kind.
func decodeK8s(objs *k8sObjects, name string, b []byte) error {
	for i, doc := range splitDocs(b) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return fmt.Errorf("%s doc %d: %w", name, i, err)
		}
		var obj interface{ GetName() string }
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		default:
			return fmt.Errorf("%s doc %d: unexpected %s %s", name, i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return fmt.Errorf("%s doc %d (%s): strict decode: %w", name, i, tm.Kind, err)
		}
		n := obj.GetName()
		switch o := obj.(type) {
		case *corev1.Namespace:
			objs.namespaces[n] = o
		case *corev1.PersistentVolumeClaim:
			objs.claims[n] = o
		case *batchv1.Job:
			objs.jobs[n] = o
		case *corev1.Service:
			objs.services[n] = o
		case *appsv1.StatefulSet:
			objs.statefulSets[n] = o
		}
	}
	return nil
}

// decodeAll decodes the manifests the kustomization lists, checking that
// it lists every manifest outside chaos/.
func decodeAll(t *testing.T, files map[string][]byte) *k8sObjects {
	t.Helper()
	var k kustomization
	if err := yaml.UnmarshalStrict(files[KustomizationFile], &k); err != nil {
		t.Fatalf("kustomization: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" || k.Namespace != DefaultNamespace {
		t.Fatalf("kustomization %+v", k)
	}
	var manifests []string
	for p := range files {
		if p != KustomizationFile && !strings.HasPrefix(p, ChaosDir+"/") {
			manifests = append(manifests, p)
		}
	}
	slices.Sort(manifests)
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(manifests, listed) {
		t.Fatalf("kustomization lists %v, rendered %v", listed, manifests)
	}
	objs := &k8sObjects{map[string]*corev1.Namespace{}, map[string]*corev1.PersistentVolumeClaim{},
		map[string]*batchv1.Job{}, map[string]*corev1.Service{}, map[string]*appsv1.StatefulSet{}}
	for _, p := range manifests {
		if err := decodeK8s(objs, p, files[p]); err != nil {
			t.Fatal(err)
		}
	}
	return objs
}

// TestK8sStrict decodes every rendered Kubernetes object strictly with
// the k8s.io/api types and checks the deployment's structure: the genesis
// Job and its volume, per node a headless Service and a StatefulSet with
// its own validator range and shards, DNS bootnodes with peer IDs,
// readiness probes, resources and Prometheus annotations.
func TestK8sStrict(t *testing.T) {
	c := testConfig(t, TargetK8s)
	files := render(t, TargetK8s)
	objs := decodeAll(t, files)

	if _, ok := objs.namespaces[DefaultNamespace]; !ok || len(objs.namespaces) != 1 {
		t.Fatalf("namespaces %v", objs.namespaces)
	}
	claim, job := objs.claims[genesisClaim], objs.jobs[genesisJob]
	if claim == nil || job == nil {
		t.Fatalf("genesis claim %v, job %v", claim, job)
	}
	jc := job.Spec.Template.Spec.Containers[0]
	if got := strings.Join(jc.Args, " "); !strings.Contains(got, "genesis --preset minimal --validators 64 --slot-time 2 --genesis-delay 60 --out /genesis --shards 8") {
		t.Fatalf("genesis job args %q", got)
	}
	if v := job.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].PersistentVolumeClaim.ClaimName != genesisClaim || v[0].PersistentVolumeClaim.ReadOnly {
		t.Fatalf("genesis job volumes %+v", v)
	}
	if sc := job.Spec.Template.Spec.SecurityContext; sc == nil || *sc.RunAsUser != UID || *sc.FSGroup != GID || !*sc.RunAsNonRoot {
		t.Fatalf("genesis job security %+v", sc)
	}

	nodes, err := c.nodes(TargetK8s)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.statefulSets) != len(nodes) || len(objs.services) != len(nodes) {
		t.Fatalf("%d StatefulSets, %d Services for %d nodes", len(objs.statefulSets), len(objs.services), len(nodes))
	}
	covered := make([]bool, c.Testnet.Validators)
	for i, n := range nodes {
		name := n.spec.Name
		svc, sts := objs.services[name], objs.statefulSets[name]
		if svc == nil || sts == nil {
			t.Fatalf("%s: service %v, statefulset %v", name, svc, sts)
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses || svc.Spec.Selector[labelNode] != name {
			t.Errorf("%s: service %+v", name, svc.Spec)
		}
		tpl := sts.Spec.Template
		if *sts.Spec.Replicas != 1 || sts.Spec.ServiceName != name || tpl.Labels[labelNode] != name ||
			sts.Spec.Selector.MatchLabels[labelNode] != name || tpl.Labels[labelRole] != n.spec.Role {
			t.Errorf("%s: statefulset identity: replicas %d service %s labels %v", name, *sts.Spec.Replicas, sts.Spec.ServiceName, tpl.Labels)
		}
		if a := tpl.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "8080" || a["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s: annotations %v", name, a)
		}
		ct := tpl.Spec.Containers[0]
		if p := ct.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/eth/v1/node/health" || p.HTTPGet.Port.StrVal != "http" {
			t.Errorf("%s: readiness probe %+v", name, p)
		}
		if ct.Resources.Requests.Cpu().IsZero() || ct.Resources.Requests.Memory().IsZero() || ct.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v", name, ct.Resources)
		}
		if len(sts.Spec.VolumeClaimTemplates) != 1 || len(ct.VolumeMounts) != 2 || ct.VolumeMounts[0].MountPath != GenesisPath ||
			!ct.VolumeMounts[0].ReadOnly || ct.VolumeMounts[1].MountPath != HomePath {
			t.Errorf("%s: volumes %+v", name, ct.VolumeMounts)
		}
		args := " " + strings.Join(ct.Args, " ") + " "
		for _, w := range []string{" " + n.spec.Role + " ", " --genesis /genesis ", " --datadir /var/lib/shardlab/data ",
			" --p2p-host 0.0.0.0 ", " --http-host 0.0.0.0 ", " --http-port 5052 ", " --metrics-port 8080 ", " --p2p-port 9000 ",
			" --p2p-key-seed shardlab/1/" + name + " ", " --genesis-wait 10m0s "} {
			if !strings.Contains(args, w) {
				t.Errorf("%s: args %q lack %q", name, args, w)
			}
		}
		// Bootnodes: the nodes before it, by DNS name, with their peer IDs.
		if i > 0 {
			for _, b := range bootnodes(nodes, i, func(m node) string { return m.spec.Name }) {
				m := nodes[slices.IndexFunc(nodes, func(m node) bool { return m.spec.Name == b })]
				if w := fmt.Sprintf("/dns4/%s/tcp/9000/p2p/%s", b, m.peerID); !strings.Contains(args, w) {
					t.Errorf("%s: args lack bootnode %s", name, w)
				}
			}
		} else if strings.Contains(args, "--bootnodes") {
			t.Errorf("%s: the first node has bootnodes", name)
		}
		// Each beacon node hosts only its own validator range; shard nodes
		// serve their share of the shards.
		switch n.spec.Role {
		case testnet.RoleBeacon:
			var lo, hi uint64
			if _, err := fmt.Sscanf(flagValue(ct.Args, "--validators"), "%d-%d", &lo, &hi); err != nil {
				t.Fatalf("%s: --validators: %v", name, err)
			}
			for v := lo; v <= hi; v++ {
				if covered[v] {
					t.Errorf("%s: validator %d on two beacon nodes", name, v)
				}
				covered[v] = true
			}
		case testnet.RoleShard:
			want := testnet.ShardSplit(c.Testnet.Shards, c.Testnet.ShardNodes, i-c.Testnet.BeaconNodes)
			if got := flagValue(ct.Args, "--shards"); got != strings.Trim(strings.ReplaceAll(fmt.Sprint(want), " ", ","), "[]") {
				t.Errorf("%s: --shards %s, want %v", name, got, want)
			}
		}
	}
	if i := slices.Index(covered, false); i >= 0 {
		t.Errorf("validator %d on no beacon node", i)
	}
}

// flagValue returns the value after flag in args ("" if absent).
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// TestK8sDecodeIsStrict checks that the decoding of TestK8sStrict rejects
// what kubectl would: a misspelt field and a field of the wrong type.
func TestK8sDecodeIsStrict(t *testing.T) {
	files := render(t, TargetK8s)
	sts := string(files["beacon-1.yaml"])
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(sts, "serviceName:", "serviceNam:", 1),
		"wrong type":    strings.Replace(sts, "replicas: 1", "replicas: one", 1),
	} {
		objs := &k8sObjects{map[string]*corev1.Namespace{}, map[string]*corev1.PersistentVolumeClaim{},
			map[string]*batchv1.Job{}, map[string]*corev1.Service{}, map[string]*appsv1.StatefulSet{}}
		if bad == sts {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if err := decodeK8s(objs, path.Base("beacon-1.yaml"), []byte(bad)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
