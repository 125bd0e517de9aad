package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/runnertest"
	"github.com/orion-run/orion/infra"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The engine client's HTTP transport keeps idle connections.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// engine returns a client of the test engine and the busybox test image
// (scripts/docker-test-engine). Without an engine the test is skipped on a
// developer machine and fails in CI (ORION_CI=1), where .ci/run starts one.
func engine(t *testing.T) (*client.Client, string) {
	t.Helper()
	img := os.Getenv("ORION_TEST_DOCKER_IMAGE")
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil || img == "" {
		msg := "no Docker test engine: run eval \"$(scripts/docker-test-engine start)\""
		if os.Getenv("ORION_CI") == "1" {
			t.Fatalf("%s (engine: %v, ORION_TEST_DOCKER_IMAGE=%q)", msg, err, img)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli, img
}

func dockerInfra(t *testing.T, cfg map[string]any) infra.Config {
	t.Helper()
	in := &orionv1.Infrastructure{Type: "docker"}
	if cfg != nil {
		s, err := structpb.NewStruct(cfg)
		if err != nil {
			t.Fatal(err)
		}
		in.Config = s
	}
	c, err := infra.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leftovers lists the containers labelled with the run's id.
func leftovers(t *testing.T, cli *client.Client, flowRunID string) []string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", LabelFlowRunID+"="+flowRunID)),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var out []string
	for _, c := range list {
		out = append(out, strings.Join(c.Names, ",")+" ("+c.State+")")
	}
	return out
}

// TestConformance runs the shared runner suite against a real engine.
func TestConformance(t *testing.T) {
	cli, img := engine(t)
	var runners []*Runner
	t.Cleanup(func() {
		for _, r := range runners {
			_ = r.Close()
		}
	})
	runnertest.Run(t, runnertest.Harness{
		New: func(*testing.T) runner.Runner {
			r := New(Config{})
			runners = append(runners, r)
			return r
		},
		Prepare: func(t *testing.T, s *runner.Spec) {
			s.Infra = dockerInfra(t, map[string]any{"image": img})
			s.APIURL = "http://127.0.0.1:4200"
		},
		MissingImage: func(s *runner.Spec) {
			s.Infra.Docker.Image = "orion-test/no-such-image:1"
			s.Infra.Docker.ImagePullPolicy = infra.PullNever
		},
		MissingImageMessage: "image orion-test/no-such-image:1 is not present on the Docker engine",
		BadCommandMessage:   "/orion-no-such-command",
		Leftovers: func(t *testing.T, s runner.Spec) []string {
			return leftovers(t, cli, s.FlowRunID)
		},
	})
}

// TestRunner_ReattachSkipsRecordedOutput: the engine-timestamp position
// recorded before a restart is where the second runner resumes.
func TestRunner_ReattachSkipsRecordedOutput(t *testing.T) {
	_, img := engine(t)
	runnertest.ReattachSkipsRecorded(t, runnertest.Harness{
		New: func(*testing.T) runner.Runner { return New(Config{}) },
		Prepare: func(t *testing.T, s *runner.Spec) {
			s.Infra = dockerInfra(t, map[string]any{"image": img})
		},
	}, 512)
}

// TestRunner_ContainerSettings checks what the engine was asked for:
// labels, resources, init, network mode, user, and the files copied in and
// collected back; with auto_remove false the container is kept.
func TestRunner_ContainerSettings(t *testing.T) {
	cli, img := engine(t)
	r := New(Config{})
	defer r.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flow.sh"), []byte("echo from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runtime := t.TempDir()
	if err := os.MkdirAll(filepath.Join(runtime, "orion"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runtime, "orion", "mod.py"), []byte("x = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The host's bytecode is not copied in (the command fails if it is).
	if err := os.MkdirAll(filepath.Join(runtime, "orion", runner.BytecodeDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runtime, "orion", runner.BytecodeDirName, "mod.cpython-311.pyc"), []byte("pyc"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := runnertest.NewCollector()
	spec := runner.Spec{
		FlowRunID: "settings-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""), Epoch: 3,
		FlowRunName: "brave-fox", FlowName: "etl", DeploymentID: "dep-1", DeploymentName: "nightly",
		Command: []string{"sh", "-c", `test ! -e /orion/runtime/orion/__pycache__ || exit 9; sh flow.sh; cat /orion/runtime/orion/mod.py; id -u; echo result > .orion-result.json; touch /orion/run/ok`},
		Env:     []string{"A=1"},
		Dir:     dir, Output: c.Output, APIURL: "http://127.0.0.1:9",
		RuntimeDir: runtime, Collect: []string{".orion-result.json", "missing.json"},
		Infra: dockerInfra(t, map[string]any{
			"image": img, "labels": map[string]any{"team": "data"}, "auto_remove": false, "user": "65534",
			"resources": map[string]any{"limits": map[string]any{"cpu": "1.5", "memory": "64Mi"}, "requests": map[string]any{"memory": "32Mi", "cpu": "250m"}},
		}),
	}
	h, err := r.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer r.Release(h)
	res, err := r.Wait(runnertest.Ctx(t), h)
	if err != nil || !res.Success() {
		t.Fatalf("wait: %s %v; output %q", res, err, c.Lines(""))
	}
	if got := strings.Join(c.Lines("stdout"), ","); got != "from-file,x = 1,65534" {
		t.Fatalf("output %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".orion-result.json")); err != nil || string(b) != "result\n" {
		t.Fatalf("collected result file: %q %v", b, err)
	}
	if h.ID != ContainerName(spec.FlowRunID, 3) {
		t.Fatalf("handle id %q", h.ID)
	}
	info, err := cli.ContainerInspect(context.Background(), h.ID)
	if err != nil {
		t.Fatalf("auto_remove false: the container is gone: %v", err)
	}
	defer cli.ContainerRemove(context.Background(), info.ID, container.RemoveOptions{Force: true}) //nolint:errcheck
	l := info.Config.Labels
	if l[LabelFlowRunID] != spec.FlowRunID || l[LabelLeaseEpoch] != "3" || l[LabelFlowRunName] != "brave-fox" ||
		l[LabelDeploymentName] != "nightly" || l[LabelFlowName] != "etl" || l["team"] != "data" {
		t.Fatalf("labels %v", l)
	}
	hc := info.HostConfig
	if hc.NanoCPUs != 1_500_000_000 || hc.Memory != 64<<20 || hc.MemoryReservation != 32<<20 || hc.CPUShares != 256 {
		t.Fatalf("resources: nano %d mem %d res %d shares %d", hc.NanoCPUs, hc.Memory, hc.MemoryReservation, hc.CPUShares)
	}
	if hc.Init == nil || !*hc.Init || string(hc.NetworkMode) != "host" || info.Config.User != "65534" || info.Config.WorkingDir != runner.ContainerWorkDir {
		t.Fatalf("init %v network %q user %q workdir %q", hc.Init, hc.NetworkMode, info.Config.User, info.Config.WorkingDir)
	}
	for _, e := range info.Config.Env {
		if e == "A=1" {
			return
		}
	}
	t.Fatalf("env %v lacks A=1", info.Config.Env)
}

// TestRunner_RedeliveryAdoptsContainer: a second runner (a restarted
// agent) given the same run and epoch adopts the first container instead
// of starting another.
func TestRunner_RedeliveryAdoptsContainer(t *testing.T) {
	cli, img := engine(t)
	first, second := New(Config{}), New(Config{})
	defer first.Close()
	defer second.Close()
	c := runnertest.NewCollector()
	spec := runner.Spec{
		FlowRunID: "redeliver-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""), Epoch: 1,
		Command: []string{"sh", "-c", "echo once; exec sleep 60"}, Dir: t.TempDir(), Output: c.Output,
		Infra: dockerInfra(t, map[string]any{"image": img}), APIURL: "http://127.0.0.1:9",
	}
	h1, err := first.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	c.Await(t, "once")
	first.Release(h1)
	spec.Dir = t.TempDir() // a fresh working directory, as after a restart
	h2, err := second.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	defer second.Release(h2)
	if h2.ID != h1.ID {
		t.Fatalf("handles differ: %q vs %q", h1.ID, h2.ID)
	}
	if n := len(leftovers(t, cli, spec.FlowRunID)); n != 1 {
		t.Fatalf("%d containers for one run and epoch", n)
	}
	if err := second.Stop(runnertest.Ctx(t), h2, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Wait(runnertest.Ctx(t), h2); err != nil {
		t.Fatal(err)
	}
}
