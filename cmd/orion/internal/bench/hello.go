package bench

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// helloFlow is a copy of examples/hello/flow.py (a test keeps them equal),
// used when the repository's file cannot be found.
//
//go:embed hello_flow.py
var helloFlow string

// The deployment examples/hello/flow.py creates.
const (
	helloFlowName       = "hello-world"
	helloDeploymentName = "hello-world-daily"
)

// helloFlowPath returns examples/hello/flow.py: the repository's own file
// when the working directory or the binary's folder (bin/orion) is inside
// a checkout, else the embedded copy written into dir.
func helloFlowPath(binary, dir string) (string, error) {
	rel := filepath.Join("examples", "hello", "flow.py")
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	roots = append(roots, filepath.Dir(binary))
	for _, root := range roots {
		for d := root; ; d = filepath.Dir(d) {
			p := filepath.Join(d, rel)
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), helloDeploymentName) {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	p := filepath.Join(dir, "flow.py")
	return p, os.WriteFile(p, []byte(helloFlow), 0o600)
}

// deploymentCreate runs `orion deployment create file` as a whole process
// against url and returns how long the process took.
func (e *env) deploymentCreate(ctx context.Context, url, home, file string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.opts.Binary, "deployment", "create", file)
	cmd.Env = environ("ORION_HOME="+home, "ORION_API_URL="+url)
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(begin)
	if err != nil {
		return 0, fmt.Errorf("orion deployment create %s: %v: %s", file, err, oneLine(string(out)))
	}
	if !strings.Contains(string(out), helloDeploymentName) {
		return 0, fmt.Errorf("orion deployment create %s did not create %s: %s", file, helloDeploymentName, oneLine(string(out)))
	}
	return took, nil
}
