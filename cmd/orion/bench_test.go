package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchKeys are the figures each phase must report (issue 8's contract),
// and whether the value may be zero (latencies can round to 0.00 ms).
var benchKeys = map[string]map[string]bool{
	"startup":    {"server_start_ms": false, "deployment_create_ms": false},
	"rss":        {"server_rss_mb_idle": false, "agent_rss_mb_idle": false, "agent_rss_mb_idle_in_process": false},
	"dispatch":   {"dispatch_latency_ms.p50": true, "dispatch_latency_ms.p90": true, "dispatch_latency_ms.p99": true, "dispatch_latency_ms.max": true},
	"throughput": {"runs_per_second": false, "runs_per_second_subprocess": false},
	"api": {"api_read_rps_grpc": false, "api_read_p99_ms_grpc": false, "api_read_rps_http": false,
		"api_read_p99_ms_http": false, "api_write_rps_grpc": false,
		"api_read_cpu_us_grpc.server": false, "api_read_cpu_us_grpc.client": false,
		"api_read_cpu_us_http.server": false, "api_write_cpu_us_grpc.server": false},
	"e2e":       {"hello_world_e2e_ms.p50": false, "hello_world_e2e_ms.p99": false},
	"scheduler": {"scheduler_pass_ms_10k": true, "scheduler_first_pass_ms_10k": true, "scheduler_first_minute_pass_ms_10k": true},
	"list":      {"list_p99_ms_1m": false},
}

// benchShortPhases is the CI subset: every phase but startup, whose
// repeated Python loads and server starts take long under the race
// detector (e2e covers `orion deployment create` and Python runs).
var benchShortPhases = []string{"rss", "dispatch", "throughput", "api", "e2e", "scheduler", "list"}

// TestBench_ShortRunJSON runs `orion bench` at a small size and checks the
// JSON has every key of the selected phases with a sane value. It fails on
// errors only, never on timings.
func TestBench_ShortRunJSON(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, "bench", "-o", "json", "--log-level", "warn",
		"--only", strings.Join(benchShortPhases, ","),
		"--runs", "100", "--agents", "2", "--duration", "1s", "--rate", "50",
		"--list-runs", "5000", "--scheduler-deployments", "100")
	cmd.Env = e.environ()
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("orion bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("orion bench took %s", time.Since(begin).Round(time.Millisecond))

	var got map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout")
	}
	if errs, ok := got["errors"]; ok {
		t.Fatalf("phases failed: %v", errs)
	}
	for _, phase := range benchShortPhases {
		for key, zeroOK := range benchKeys[phase] {
			v, ok := lookupNumber(got, key)
			switch {
			case !ok:
				t.Errorf("phase %s: key %s missing or not a number", phase, key)
			case v < 0 || (v == 0 && !zeroOK):
				t.Errorf("phase %s: %s = %v, want > 0", phase, key, v)
			}
		}
	}
	if v, ok := got["go_version"].(string); !ok || !strings.HasPrefix(v, "go") {
		t.Errorf("go_version = %v", got["go_version"])
	}
	if v, ok := lookupNumber(got, "cpus"); !ok || v < 1 {
		t.Errorf("cpus = %v", got["cpus"])
	}
	// The test binary has orion-agent beside it, as `make build` installs
	// them: the agents ran it.
	if got["agent_binary"] != "orion-agent" {
		t.Errorf("agent_binary = %v, want orion-agent", got["agent_binary"])
	}
	if v, ok := lookupNumber(got, "parameters.runs"); !ok || v != 100 {
		t.Errorf("parameters.runs = %v, want 100", v)
	}
}

// lookupNumber finds a dotted key ("a.b") holding a number.
func lookupNumber(m map[string]any, key string) (float64, bool) {
	var cur any = m
	for _, part := range strings.Split(key, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		cur = obj[part]
	}
	f, ok := cur.(float64)
	return f, ok
}

var (
	tempDirLine = regexp.MustCompile(`temp_dir=(\S+)`)
	childLine   = regexp.MustCompile(`child started: name=(\S+) pid=(\d+)`)
)

// TestBench_InterruptCleansUp sends SIGINT to a bench whose server and
// agent are up and checks that it exits 130 having stopped its children
// and removed its temp folder.
func TestBench_InterruptCleansUp(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command(e.bin, "bench", "--only", "throughput", "--runs", "1000000", "--agents", "1", "--log-level", "debug")
	cmd.Env = e.environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() }) //nolint:errcheck // already exited when the test passes

	var dir string
	var pids []int
	timeout := time.After(e2eTimeout)
	var out []string
	for agentUp := false; !agentUp; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("orion bench exited early:\n%s", strings.Join(out, "\n"))
			}
			out = append(out, line)
			if m := tempDirLine.FindStringSubmatch(line); m != nil && dir == "" {
				dir = m[1]
			}
			if m := childLine.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[2])
				pids = append(pids, pid)
				agentUp = strings.HasPrefix(m[1], "agent")
			}
		case <-timeout:
			t.Fatalf("no agent started in %s:\n%s", e2eTimeout, strings.Join(out, "\n"))
		}
	}
	if dir == "" {
		t.Fatalf("no temp_dir in the progress lines:\n%s", strings.Join(out, "\n"))
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines { //nolint:revive // drain until the bench exits
		}
	}()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Errorf("exit after SIGINT: %v, want status 130", err)
		}
	case <-time.After(e2eTimeout):
		t.Fatalf("orion bench did not exit within %s of SIGINT", e2eTimeout)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp folder %s still there after SIGINT (stat: %v)", dir, err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child %d still running after the bench exited (kill -0: %v)", pid, err)
		}
	}
}
