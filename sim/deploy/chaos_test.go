package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// Typed views of the rendered Chaos Mesh objects for strict decoding.
type networkChaosObject struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   chaosMeta        `json:"metadata"`
	Spec       networkChaosSpec `json:"spec"`
}

type podChaosObject struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   chaosMeta    `json:"metadata"`
	Spec       podChaosSpec `json:"spec"`
}

type workflowObject struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   chaosMeta    `json:"metadata"`
	Spec       workflowSpec `json:"spec"`
}

// selects reports whether a selector picks exactly the named nodes' pods
// in the namespace (or, with exclude, every other node's).
func selects(s podSelector, names []string, exclude bool) error {
	op := "In"
	if exclude {
		op = "NotIn"
	}
	if !slices.Equal(s.Namespaces, []string{DefaultNamespace}) || s.LabelSelectors["app.kubernetes.io/name"] != "shardlab" {
		return fmt.Errorf("namespaces %v labels %v", s.Namespaces, s.LabelSelectors)
	}
	want := []labelRequirement{{Key: labelNode, Operator: "Exists"}, {Key: labelNode, Operator: op, Values: names}}
	if fmt.Sprint(s.ExpressionSelectors) != fmt.Sprint(want) {
		return fmt.Errorf("expressions %v, want %v", s.ExpressionSelectors, want)
	}
	return nil
}

// TestChaosStrict decodes the rendered experiments and workflow of
// testdata/faults.yaml strictly into the transcribed Chaos Mesh types and
// checks how each fault maps: partition, delay and loss to NetworkChaos
// between the targets and the peers (default: every other node), kill to
// PodChaos pod-failure for the duration, restart to pod-kill; the workflow
// waits until each fault's time, then injects it for its duration.
func TestChaosStrict(t *testing.T) {
	c := testConfig(t, TargetK8s)
	files := render(t, TargetK8s)
	var k kustomization
	if err := yaml.UnmarshalStrict(files[chaosKustFile], &k); err != nil || !slices.Equal(k.Resources, []string{"workflow.yaml"}) {
		t.Fatalf("chaos kustomization %+v: %v", k, err)
	}
	var wf workflowObject
	if err := yaml.UnmarshalStrict(files[WorkflowFile], &wf); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if wf.APIVersion != chaosAPIVersion || wf.Kind != "Workflow" || wf.Metadata.Namespace != DefaultNamespace || wf.Spec.Entry != "timeline" {
		t.Fatalf("workflow header %+v %+v", wf.Metadata, wf.Spec.Entry)
	}
	tpl := make(map[string]workflowTemplate)
	for _, x := range wf.Spec.Templates {
		if _, dup := tpl[x.Name]; dup {
			t.Fatalf("template %s twice", x.Name)
		}
		tpl[x.Name] = x
	}
	root := tpl["timeline"]
	if root.TemplateType != "Parallel" || len(root.Children) != len(c.Faults.Faults) {
		t.Fatalf("timeline template %+v", root)
	}

	for i, f := range c.Faults.Faults {
		name := fmt.Sprintf("fault-%d-%s", i, f.Kind)
		t.Run(name, func(t *testing.T) {
			raw := files[ChaosDir+"/experiments/"+name+".yaml"]
			branch := tpl[name]
			inject := tpl[name+"-inject"]
			wantChildren := []string{name + "-inject"}
			if f.At > 0 {
				wantChildren = []string{name + "-wait", name + "-inject"}
				if w := tpl[name+"-wait"]; w.TemplateType != "Suspend" || w.Deadline != chaosDuration(f.At) {
					t.Errorf("wait step %+v, want Suspend for %s", w, chaosDuration(f.At))
				}
			}
			if branch.TemplateType != "Serial" || !slices.Equal(branch.Children, wantChildren) || root.Children[i] != name {
				t.Errorf("branch %+v", branch)
			}
			switch f.Kind {
			case FaultKill, FaultRestart:
				var o podChaosObject
				if err := yaml.UnmarshalStrict(raw, &o); err != nil {
					t.Fatal(err)
				}
				if o.Kind != "PodChaos" || inject.TemplateType != "PodChaos" || inject.PodChaos == nil || inject.NetworkChaos != nil {
					t.Fatalf("kinds %s / %+v", o.Kind, inject)
				}
				if err := selects(o.Spec.Selector, f.Targets, false); err != nil {
					t.Error(err)
				}
				if f.Kind == FaultKill {
					if o.Spec.Action != "pod-failure" || o.Spec.Duration != chaosDuration(f.Duration) || inject.Deadline != chaosDuration(f.Duration) {
						t.Errorf("kill: %+v, deadline %s", o.Spec, inject.Deadline)
					}
				} else if o.Spec.Action != "pod-kill" || o.Spec.Duration != "" || o.Spec.GracePeriod == nil || *o.Spec.GracePeriod != 0 {
					t.Errorf("restart: %+v", o.Spec)
				}
			default:
				var o networkChaosObject
				if err := yaml.UnmarshalStrict(raw, &o); err != nil {
					t.Fatal(err)
				}
				if o.Kind != "NetworkChaos" || inject.TemplateType != "NetworkChaos" || inject.NetworkChaos == nil || inject.PodChaos != nil {
					t.Fatalf("kinds %s / %+v", o.Kind, inject)
				}
				s := o.Spec
				if s.Action != f.Kind || s.Mode != "all" || s.Direction != "both" || s.Duration != chaosDuration(f.Duration) ||
					inject.Deadline != chaosDuration(f.Duration) || inject.NetworkChaos.Duration != "" {
					t.Errorf("spec %+v, deadline %s", s, inject.Deadline)
				}
				if err := selects(s.Selector, f.Targets, false); err != nil {
					t.Error(err)
				}
				peers, exclude := f.Peers, false
				if len(peers) == 0 {
					peers, exclude = f.Targets, true
				}
				if s.Target == nil || s.Target.Mode != "all" {
					t.Fatalf("target %+v", s.Target)
				}
				if err := selects(s.Target.Selector, peers, exclude); err != nil {
					t.Errorf("target: %v", err)
				}
				switch f.Kind {
				case FaultDelay:
					if s.Delay == nil || s.Delay.Latency != "200ms" || s.Delay.Jitter != "50ms" || s.Loss != nil {
						t.Errorf("delay %+v loss %+v", s.Delay, s.Loss)
					}
				case FaultLoss:
					if s.Loss == nil || s.Loss.Loss != "25" || s.Delay != nil {
						t.Errorf("loss %+v delay %+v", s.Loss, s.Delay)
					}
				}
			}
			if !strings.Contains(string(raw), "shardlab.io/at: "+time.Duration(f.At).String()) {
				t.Errorf("experiment lacks its time annotation:\n%s", raw)
			}
		})
	}
}
