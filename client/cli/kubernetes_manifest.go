package cli

import (
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/infra"
)

// manifestParams fills the manifest template.
type manifestParams struct {
	Namespace    string
	Image        string
	WorkQueue    string
	StorageClass string
	StorageSize  string
	HostPath     string
	Port         int
}

// newKubernetesCommand is `orion kubernetes`.
func newKubernetesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "kubernetes", Short: "Commands for running Orion on Kubernetes"}
	cmd.AddCommand(newKubernetesManifestCommand())
	return cmd
}

// newKubernetesManifestCommand is `orion kubernetes manifest [orion]`, as
// Prefect's `prefect kubernetes manifest orion`.
func newKubernetesManifestCommand() *cobra.Command {
	p := manifestParams{}
	cmd := &cobra.Command{
		Use:   "manifest [orion]",
		Short: "Print manifests for an Orion server and agent on Kubernetes",
		Long: `Print ready-to-apply manifests (kubectl apply -f -) for an Orion server and an agent:

  - a PersistentVolumeClaim for the server's store (plus a hostPath
    PersistentVolume with --host-path, for single-node clusters without a
    storage provisioner),
  - the server: a single-replica Deployment (Recreate: the store has one
    writer) and a Service "orion" on port 4200,
  - the agent: a ServiceAccount, a Role allowing it to manage Jobs, pods,
    pod logs and ConfigMaps in the namespace, a RoleBinding and a Deployment
    running "orion agent start" against http://orion:4200.

The image must contain the orion binary on PATH (and python3 for Python
flows); Orion publishes none, see docs/runners/kubernetes.md.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"orion"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] != "orion" {
				return fmt.Errorf("unknown manifest %q: the only one is 'orion'", args[0])
			}
			if !infra.IsDNSLabel(p.Namespace) {
				return fmt.Errorf("invalid --namespace %q: use a DNS label (lower-case letters, digits, '-')", p.Namespace)
			}
			if strings.TrimSpace(p.Image) == "" {
				return fmt.Errorf("--image must not be empty")
			}
			return manifestTemplate().Execute(cmd.OutOrStdout(), p)
		},
	}
	cmd.Flags().StringVar(&p.Namespace, "namespace", "default", "namespace of every object")
	cmd.Flags().StringVar(&p.Image, "image", "orion:latest", "image with the orion binary (and python3)")
	cmd.Flags().StringVar(&p.WorkQueue, "work-queue", "default", "work queue the agent serves")
	cmd.Flags().StringVar(&p.StorageClass, "storage-class", "", "storage class of the store's volume claim (default: the cluster's)")
	cmd.Flags().StringVar(&p.StorageSize, "storage-size", "1Gi", "size of the store's volume")
	cmd.Flags().StringVar(&p.HostPath, "host-path", "", "also create a hostPath PersistentVolume at this node path for the store")
	p.Port = 4200
	return cmd
}

// manifestTemplate is parsed on first use, not in every orion process
// (the binary is also each run's supervisor shim).
var manifestTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("manifest").Parse(manifestText))
})

const manifestText = `# Orion server and agent. Apply with: orion kubernetes manifest | kubectl apply -f -
#
# The server listens inside the cluster only (Service "orion", ClusterIP) and
# runs with --insecure (no API tokens): put TLS and tokens in front of it
# before exposing it (docs/runners/kubernetes.md).
{{- if .HostPath}}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: orion-store-{{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: store
spec:
  capacity:
    storage: {{.StorageSize}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: orion-host-path
  hostPath:
    path: {{.HostPath}}
    type: DirectoryOrCreate
{{- end}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orion-store
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: store
spec:
  accessModes: [ReadWriteOnce]
{{- if .HostPath}}
  storageClassName: orion-host-path
{{- else if .StorageClass}}
  storageClassName: {{.StorageClass}}
{{- end}}
  resources:
    requests:
      storage: {{.StorageSize}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orion
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: server
spec:
  replicas: 1
  # One process may hold the bbolt store: never run two servers at once.
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app.kubernetes.io/name: orion
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: orion
        app.kubernetes.io/component: server
    spec:
      containers:
      - name: server
        image: {{.Image}}
        command: [orion, server, start, --host, 0.0.0.0, --port, "{{.Port}}", --insecure, --log-format, json]
        env:
        - name: ORION_HOME
          value: /var/lib/orion
        ports:
        - name: api
          containerPort: {{.Port}}
        readinessProbe:
          httpGet:
            path: /api/health
            port: api
        livenessProbe:
          httpGet:
            path: /api/health
            port: api
          periodSeconds: 20
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            memory: 1Gi
        volumeMounts:
        - name: store
          mountPath: /var/lib/orion
      volumes:
      - name: store
        persistentVolumeClaim:
          claimName: orion-store
---
apiVersion: v1
kind: Service
metadata:
  name: orion
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: server
spec:
  selector:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: server
  ports:
  - name: api
    port: {{.Port}}
    targetPort: api
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: orion-agent
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: agent
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: orion-agent
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: agent
rules:
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete, deletecollection]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, get, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: orion-agent
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: agent
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: orion-agent
subjects:
- kind: ServiceAccount
  name: orion-agent
  namespace: {{.Namespace}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orion-agent
  namespace: {{.Namespace}}
  labels:
    app.kubernetes.io/name: orion
    app.kubernetes.io/component: agent
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: orion
      app.kubernetes.io/component: agent
  template:
    metadata:
      labels:
        app.kubernetes.io/name: orion
        app.kubernetes.io/component: agent
    spec:
      serviceAccountName: orion-agent
      # In-flight runs get the agent's shutdown grace (15 s) plus the stop
      # grace (10 s) before Kubernetes kills the agent.
      terminationGracePeriodSeconds: 30
      containers:
      - name: agent
        image: {{.Image}}
        command: [orion, agent, start, --work-queue, {{.WorkQueue}}, --name, orion-agent, --log-format, json]
        env:
        - name: ORION_API_URL
          value: http://orion:{{.Port}}
        - name: ORION_HOME
          value: /var/lib/orion-agent
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
          limits:
            memory: 512Mi
        volumeMounts:
        - name: state
          mountPath: /var/lib/orion-agent
      volumes:
      # The agent's local state (the Jobs it supervises). On an emptyDir a
      # rescheduled agent pod starts without it, and the server's leases
      # decide what happens to runs in flight (docs/orchestration.md).
      - name: state
        emptyDir: {}
`
