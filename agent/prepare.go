package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/infra"
	"github.com/orion-run/orion/sdk/python"
)

// Files the agent writes into a run's working directory. The leading dot
// keeps them apart from a pushed flow script's name.
const (
	parametersFileName  = ".orion-parameters.json"
	resultFileName      = ".orion-result.json"
	defaultFlowFileName = "flow.py"
	// maxParametersEnv bounds ORION_PARAMETERS: a single environment
	// string may not exceed 128 KiB on Linux. Larger parameters are only in
	// the file named by ORION_PARAMETERS_FILE.
	maxParametersEnv = 64 << 10
)

// prepared is a run ready to start.
type prepared struct {
	runner runner.Runner
	spec   runner.Spec
	// resultFile is where a Python run leaves its result ("" otherwise).
	resultFile string
	// discardOutput is set when the infrastructure has stream_output false:
	// the flow's stdout and stderr are not shipped as logs.
	discardOutput bool
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// workdir is the run's working directory: <home>/agent/runs/<id>-<epoch>.
// The id comes from the server, so it is checked before it names anything
// on disk that will later be removed.
func (e *executor) workdir(flowRunID string, epoch int64) (string, error) {
	if !safeID.MatchString(flowRunID) {
		return "", fmt.Errorf("invalid flow run id %q", flowRunID)
	}
	return filepath.Join(e.home, "agent", "runs", flowRunID+"-"+strconv.FormatInt(epoch, 10)), nil
}

// prepare creates a fresh working directory and works out what to run:
// the runner, the command and the environment. Errors mean the run cannot
// start; their text names the cause for the CRASHED state.
func (e *executor) prepare(ctx context.Context, j *job, workdir string) (*prepared, error) {
	run, dep := j.run, j.dep
	cfg, err := infra.Parse(infra.Merge(dep.GetInfrastructure(), run.GetInfrastructure()))
	if err != nil {
		return nil, err
	}
	typ := cfg.Type // normalized by Parse
	rn, err := e.runners.Get(typ)
	if err != nil {
		return nil, err
	}
	if typ == runner.TypeNoop {
		// Nothing runs: no working directory, no files, no environment.
		return &prepared{runner: rn, spec: runner.Spec{FlowRunID: run.GetId(), Epoch: j.epoch, FlowRunName: run.GetName(), Infra: cfg}}, nil
	}
	if err := os.RemoveAll(workdir); err != nil {
		return nil, fmt.Errorf("clean working directory: %w", err)
	}
	if err := os.MkdirAll(workdir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	params, err := parametersJSON(run.GetParameters())
	if err != nil {
		return nil, err
	}
	paramsFile := filepath.Join(workdir, parametersFileName)
	if err := os.WriteFile(paramsFile, params, 0o600); err != nil {
		return nil, fmt.Errorf("write parameters: %w", err)
	}
	// A container runs in its image's environment with the run's files at
	// fixed paths (runner.ContainerWorkDir); the agent's own environment
	// and paths mean nothing there.
	container := runner.IsContainer(typ)
	base, home, dir := e.baseEnv, e.home, workdir
	apiURL := e.apiURL
	if container {
		base, home, dir = nil, "", runner.ContainerWorkDir
		if typ == runner.TypeKubernetes && cfg.Kubernetes.APIURL != "" {
			apiURL = cfg.Kubernetes.APIURL
		}
	}
	inDir := func(name string) string { return filepath.Join(dir, name) }
	vars := map[string]string{
		"ORION_API_URL":         apiURL,
		"ORION_FLOW_RUN_ID":     run.GetId(),
		"ORION_FLOW_RUN_NAME":   run.GetName(),
		"ORION_DEPLOYMENT_ID":   dep.GetId(),
		"ORION_PARAMETERS_FILE": inDir(parametersFileName),
	}
	if home != "" {
		vars["ORION_HOME"] = home
	}
	env := mergeEnv(base, cfg.Env, vars)
	if typ == runner.TypeSubprocess {
		env = subprocessEnv(env, cfg.Subprocess)
	}
	p := &prepared{runner: rn, discardOutput: !cfg.StreamOutput, spec: runner.Spec{
		FlowRunID: run.GetId(), Epoch: j.epoch, Dir: workdir,
		FlowRunName: run.GetName(), FlowName: cmp.Or(dep.GetFlowName(), run.GetFlowName()),
		DeploymentID: dep.GetId(), DeploymentName: dep.GetName(),
		APIURL: apiURL, Infra: cfg,
	}}
	switch kindOf(dep) {
	case orionv1.FlowKind_FLOW_KIND_COMMAND:
		if len(dep.GetCommand()) == 0 {
			return nil, errors.New("the deployment has no command to run")
		}
		p.spec.Command = append([]string(nil), dep.GetCommand()...)
		p.spec.Env = mergeEnv(env, parameterEnv(run.GetParameters(), params))
	default:
		flowFile, err := e.flowFile(ctx, dep, workdir)
		if err != nil {
			return nil, err
		}
		runtimeDir, err := e.pythonRuntime()
		if err != nil {
			return nil, err
		}
		flowName := p.spec.FlowName
		p.resultFile = filepath.Join(workdir, resultFileName)
		p.spec.RuntimeDir = runtimeDir
		if container {
			// The flow file must travel with the working directory.
			if filepath.Dir(flowFile) != workdir {
				if flowFile, err = copyInto(flowFile, workdir); err != nil {
					return nil, err
				}
			}
			// The image's python3, not the agent's ORION_PYTHON.
			p.spec.Command = python.RunCommandWith("python3", inDir(filepath.Base(flowFile)), flowName, inDir(parametersFileName), inDir(resultFileName))
			p.spec.Env = python.Env(runner.ContainerRuntimeDir, env)
			p.spec.Collect = []string{resultFileName}
		} else {
			p.spec.Command = python.RunCommand(flowFile, flowName, paramsFile, p.resultFile)
			p.spec.Env = python.Env(runtimeDir, env)
		}
		if typ == runner.TypeSubprocess {
			p.spec.Command = subprocessCommand(p.spec.Command, cfg.Subprocess)
		}
	}
	return p, nil
}

// copyInto copies a flow script that lives outside the working directory
// (push_to_server false) into it, for container runners.
func copyInto(path, dir string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read flow file: %w", err)
	}
	name := filepath.Base(path)
	if strings.HasPrefix(name, ".orion-") {
		name = defaultFlowFileName
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		return "", fmt.Errorf("copy flow file: %w", err)
	}
	return dst, nil
}

// subprocessEnv applies a virtualenv the way Prefect's SubprocessFlowRunner
// did: its bin/ first on PATH, VIRTUAL_ENV set and PYTHONHOME removed.
func subprocessEnv(env []string, cfg infra.Subprocess) []string {
	if cfg.Virtualenv == "" {
		return env
	}
	venv := expandHome(cfg.Virtualenv)
	path := filepath.Join(venv, "bin")
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PYTHONHOME", "VIRTUAL_ENV":
			continue
		case "PATH":
			if v != "" {
				path += string(os.PathListSeparator) + v
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PATH="+path, "VIRTUAL_ENV="+venv)
}

// subprocessCommand runs a Python flow's command (argv[0] is the
// interpreter) with the virtualenv's interpreter, or under `conda run` for
// a conda environment (a name, or a prefix when it starts with / or ~).
func subprocessCommand(argv []string, cfg infra.Subprocess) []string {
	switch {
	case cfg.Virtualenv != "":
		out := append([]string(nil), argv...)
		out[0] = filepath.Join(expandHome(cfg.Virtualenv), "bin", "python")
		return out
	case cfg.Condaenv != "":
		flag, env := "--name", cfg.Condaenv
		if strings.HasPrefix(env, "/") || strings.HasPrefix(env, "~") {
			flag, env = "--prefix", expandHome(env)
		}
		return append([]string{"conda", "run", flag, env, "--no-capture-output"}, argv...)
	}
	return argv
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// kindOf treats an unspecified kind as COMMAND when a command is set, else
// PYTHON.
func kindOf(dep *orionv1.Deployment) orionv1.FlowKind {
	if k := dep.GetFlowKind(); k != orionv1.FlowKind_FLOW_KIND_UNSPECIFIED {
		return k
	}
	if len(dep.GetCommand()) > 0 {
		return orionv1.FlowKind_FLOW_KIND_COMMAND
	}
	return orionv1.FlowKind_FLOW_KIND_PYTHON
}

// flowFile returns the script to run: the server's copy written into the
// working directory when the deployment pushed it, else the deployment's
// flow location, which must exist on this machine.
func (e *executor) flowFile(ctx context.Context, dep *orionv1.Deployment, workdir string) (string, error) {
	if !dep.GetPushToServer() {
		loc := dep.GetFlowLocation()
		if loc == "" {
			return "", errors.New("the deployment has no flow location")
		}
		if _, err := os.Stat(loc); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("flow file %s does not exist on this machine", loc)
			}
			return "", fmt.Errorf("flow file %s: %w", loc, err)
		}
		return loc, nil
	}
	digest := dep.GetFlowSourceDigest()
	if digest == "" {
		return "", errors.New("the deployment pushes its flow to the server but has no flow source digest")
	}
	var src *orionv1.GetFlowSourceResponse
	bo := newBackoff(200*time.Millisecond, 2*time.Second)
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		resp, err := e.client.Flows.GetFlowSource(rctx, &orionv1.GetFlowSourceRequest{Digest: digest})
		cancel()
		if err == nil {
			src = resp
			break
		}
		if !retryable(err) || attempt == 5 {
			return "", fmt.Errorf("fetch flow source %s: %w", digest, err)
		}
		select {
		case <-e.after(bo.next()):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	name := filepath.Base(src.GetFileName())
	if name == "." || name == "/" || name == ".." || strings.HasPrefix(name, ".orion-") {
		name = defaultFlowFileName
	}
	path := filepath.Join(workdir, name)
	if err := os.WriteFile(path, []byte(src.GetText()), 0o600); err != nil {
		return "", fmt.Errorf("write flow source: %w", err)
	}
	return path, nil
}

// pythonRuntime unpacks and byte-compiles the embedded Python runtime once
// per executor.
func (e *executor) pythonRuntime() (string, error) {
	e.pyMu.Lock()
	defer e.pyMu.Unlock()
	if e.pyDir != "" {
		return e.pyDir, nil
	}
	dir, err := python.Install(e.home)
	if err != nil {
		return "", fmt.Errorf("install the Python runtime: %w", err)
	}
	python.Precompile(dir)
	e.pyDir = dir
	return dir, nil
}

// parametersJSON encodes a run's parameters as a JSON object.
func parametersJSON(s *structpb.Struct) ([]byte, error) {
	if s == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(s.AsMap())
	if err != nil {
		return nil, fmt.Errorf("encode parameters: %w", err)
	}
	return b, nil
}

// parameterEnv gives a COMMAND flow its parameters: ORION_PARAMETERS (the
// JSON object) and ORION_PARAM_<NAME> for each scalar parameter, where NAME
// is the upper-cased name with anything but letters, digits and '_'
// replaced by '_'.
func parameterEnv(s *structpb.Struct, params []byte) map[string]string {
	env := make(map[string]string)
	if len(params) <= maxParametersEnv {
		env["ORION_PARAMETERS"] = string(params)
	}
	for name, v := range s.GetFields() {
		val, ok := scalarString(v)
		if !ok {
			continue
		}
		env["ORION_PARAM_"+envName(name)] = val
	}
	return env
}

func envName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// scalarString renders strings, numbers (integers without a fraction) and
// booleans; null, lists and objects have no scalar form.
func scalarString(v *structpb.Value) (string, bool) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return k.StringValue, true
	case *structpb.Value_BoolValue:
		return strconv.FormatBool(k.BoolValue), true
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	}
	return "", false
}

// mergeEnv returns base with the layers applied in order: a key already in
// the result is replaced in place, new keys are appended sorted.
func mergeEnv(base []string, layers ...map[string]string) []string {
	out := make([]string, 0, len(base)+8)
	index := make(map[string]int, len(base))
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			out[i] = k + "=" + v
			return
		}
		index[k] = len(out)
		out = append(out, k+"="+v)
	}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, layer := range layers {
		keys := make([]string, 0, len(layer))
		for k := range layer {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(k, layer[k])
		}
	}
	return out
}
