package deploy

import (
	"fmt"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

// Files of the chaos output (k8s target with a fault timeline).
const (
	ChaosDir      = "chaos"
	WorkflowFile  = "chaos/workflow.yaml"
	chaosKustFile = "chaos/kustomization.yaml"
)

// chaosAPIVersion is Chaos Mesh's API group and version.
const chaosAPIVersion = "chaos-mesh.org/v1alpha1"

// The Chaos Mesh objects below are transcribed from its v1alpha1 API
// (chaos-mesh.org/docs: NetworkChaos, PodChaos, Workflow), restricted to
// the fields the renderer sets. Importing github.com/chaos-mesh/chaos-mesh/api
// would pull in controller-runtime for a handful of structs.

// chaosObject is a Chaos Mesh custom resource.
type chaosObject struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   chaosMeta `json:"metadata"`
	Spec       any       `json:"spec"`
}

type chaosMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// podSelector is Chaos Mesh's PodSelectorSpec (the fields used).
type podSelector struct {
	Namespaces          []string           `json:"namespaces"`
	LabelSelectors      map[string]string  `json:"labelSelectors,omitempty"`
	ExpressionSelectors []labelRequirement `json:"expressionSelectors,omitempty"`
}

// labelRequirement is a Kubernetes LabelSelectorRequirement.
type labelRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// chaosTarget is NetworkChaos's target: the other side of the traffic.
type chaosTarget struct {
	Mode     string      `json:"mode"`
	Selector podSelector `json:"selector"`
}

type delaySpec struct {
	Latency     string `json:"latency"`
	Jitter      string `json:"jitter,omitempty"`
	Correlation string `json:"correlation,omitempty"`
}

type lossSpec struct {
	Loss        string `json:"loss"`
	Correlation string `json:"correlation,omitempty"`
}

// networkChaosSpec is NetworkChaosSpec.
type networkChaosSpec struct {
	Action    string       `json:"action"`
	Mode      string       `json:"mode"`
	Selector  podSelector  `json:"selector"`
	Direction string       `json:"direction,omitempty"`
	Target    *chaosTarget `json:"target,omitempty"`
	Delay     *delaySpec   `json:"delay,omitempty"`
	Loss      *lossSpec    `json:"loss,omitempty"`
	Duration  string       `json:"duration,omitempty"`
}

// podChaosSpec is PodChaosSpec.
type podChaosSpec struct {
	Action      string      `json:"action"`
	Mode        string      `json:"mode"`
	Selector    podSelector `json:"selector"`
	Duration    string      `json:"duration,omitempty"`
	GracePeriod *int64      `json:"gracePeriod,omitempty"`
}

// workflowSpec is WorkflowSpec.
type workflowSpec struct {
	Entry     string             `json:"entry"`
	Templates []workflowTemplate `json:"templates"`
}

type workflowTemplate struct {
	Name         string            `json:"name"`
	TemplateType string            `json:"templateType"`
	Deadline     string            `json:"deadline,omitempty"`
	Children     []string          `json:"children,omitempty"`
	NetworkChaos *networkChaosSpec `json:"networkChaos,omitempty"`
	PodChaos     *podChaosSpec     `json:"podChaos,omitempty"`
}

// restartDeadline is how long a restart's pod-kill step lasts in the
// workflow (the kill itself is instantaneous).
const restartDeadline = 10 * time.Second

// chaosDuration renders a duration as Chaos Mesh reads it ("90s").
func chaosDuration(d Duration) string {
	return strconv.FormatInt(int64((time.Duration(d)+time.Second-1)/time.Second), 10) + "s"
}

// selector selects the pods of the named nodes; with exclude, every other
// node's pod.
func (c Config) selector(names []string, exclude bool) podSelector {
	op := "In"
	if exclude {
		op = "NotIn"
	}
	return podSelector{
		Namespaces:     []string{c.Namespace},
		LabelSelectors: map[string]string{"app.kubernetes.io/name": "shardlab"},
		ExpressionSelectors: []labelRequirement{
			{Key: labelNode, Operator: "Exists"},
			{Key: labelNode, Operator: op, Values: names},
		},
	}
}

// chaosSpec maps a fault onto a Chaos Mesh experiment: its kind and spec
// (without a duration: the caller adds it where it belongs).
func (c Config) chaosSpec(f Fault) (kind string, network *networkChaosSpec, pod *podChaosSpec) {
	sel := c.selector(f.Targets, false)
	switch f.Kind {
	case FaultKill:
		return "PodChaos", nil, &podChaosSpec{Action: "pod-failure", Mode: "all", Selector: sel}
	case FaultRestart:
		zero := int64(0)
		return "PodChaos", nil, &podChaosSpec{Action: "pod-kill", Mode: "all", Selector: sel, GracePeriod: &zero}
	}
	n := &networkChaosSpec{Mode: "all", Selector: sel, Direction: "both",
		Target: &chaosTarget{Mode: "all", Selector: c.selector(f.Targets, true)}}
	if len(f.Peers) > 0 {
		n.Target.Selector = c.selector(f.Peers, false)
	}
	switch f.Kind {
	case FaultPartition:
		n.Action = "partition"
	case FaultDelay:
		n.Action = "delay"
		n.Delay = &delaySpec{Latency: time.Duration(f.Latency).String()}
		if f.Jitter > 0 {
			n.Delay.Jitter = time.Duration(f.Jitter).String()
		}
	case FaultLoss:
		n.Action = "loss"
		n.Loss = &lossSpec{Loss: strconv.FormatFloat(f.Loss, 'f', -1, 64)}
	}
	return "NetworkChaos", n, nil
}

// renderChaos renders the timeline: chaos/workflow.yaml, a Workflow that
// replays every fault at its time from when it is applied (a parallel
// branch per fault: suspend until at, then the experiment for its
// duration), with chaos/kustomization.yaml; and chaos/experiments/, one
// standalone experiment per fault, for injecting a fault by hand now.
func renderChaos(c Config, t Timeline) (map[string][]byte, error) {
	files := make(map[string][]byte)
	wf := workflowSpec{Entry: "timeline", Templates: []workflowTemplate{{Name: "timeline", TemplateType: "Parallel"}}}
	for i, f := range t.Faults {
		name := fmt.Sprintf("fault-%d-%s", i, f.Kind)
		kind, network, pod := c.chaosSpec(f)
		deadline := chaosDuration(f.Duration)
		if f.Kind == FaultRestart {
			deadline = chaosDuration(Duration(restartDeadline))
		}
		step := workflowTemplate{Name: name + "-inject", TemplateType: kind, Deadline: deadline, NetworkChaos: network, PodChaos: pod}
		children := []string{step.Name}
		if f.At > 0 {
			wait := workflowTemplate{Name: name + "-wait", TemplateType: "Suspend", Deadline: chaosDuration(f.At)}
			wf.Templates = append(wf.Templates, wait)
			children = []string{wait.Name, step.Name}
		}
		wf.Templates = append(wf.Templates, workflowTemplate{Name: name, TemplateType: "Serial", Children: children})
		wf.Templates = append(wf.Templates, step)
		wf.Templates[0].Children = append(wf.Templates[0].Children, name)

		// The standalone experiment: the same spec with its duration.
		var spec any
		if network != nil {
			s := *network
			s.Duration = chaosDuration(f.Duration)
			spec = s
		} else {
			s := *pod
			if f.Kind == FaultKill {
				s.Duration = chaosDuration(f.Duration)
			}
			spec = s
		}
		obj := chaosObject{APIVersion: chaosAPIVersion, Kind: kind, Spec: spec, Metadata: chaosMeta{
			Name: name, Namespace: c.Namespace, Labels: baseLabels(),
			Annotations: map[string]string{"shardlab.io/at": time.Duration(f.At).String()},
		}}
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		files[fmt.Sprintf("%s/experiments/%s.yaml", ChaosDir, name)] = y
	}
	y, err := yaml.Marshal(chaosObject{APIVersion: chaosAPIVersion, Kind: "Workflow", Spec: wf,
		Metadata: chaosMeta{Name: "shardlab-faults", Namespace: c.Namespace, Labels: baseLabels()}})
	if err != nil {
		return nil, fmt.Errorf("render workflow: %w", err)
	}
	files[WorkflowFile] = y
	k, err := yaml.Marshal(kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization",
		Namespace: c.Namespace, Resources: []string{"workflow.yaml"}})
	if err != nil {
		return nil, fmt.Errorf("render chaos kustomization: %w", err)
	}
	files[chaosKustFile] = k
	return files, nil
}
