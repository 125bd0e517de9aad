package main

import (
	"testing"

	"github.com/orion-run/orion/cmd/internal/godeps"
)

// TestDeps_NoKubernetesClientset: the binary does not link client-go's
// typed clientset or its scheme. They register every Kubernetes API group
// at start-up and cost each orion process (server, agent and CLI) some
// 20 MB of memory and 35 MB of binary; the Kubernetes runner uses
// client-go's REST client with a codec of its own two API groups instead.
func TestDeps_NoKubernetesClientset(t *testing.T) {
	for _, pkg := range godeps.List(t, ".") {
		if pkg == "k8s.io/client-go/kubernetes" || pkg == "k8s.io/client-go/kubernetes/scheme" {
			t.Errorf("orion links %s (see agent/runner/kubernetes.Cluster)", pkg)
		}
	}
}
