package python

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Exit codes of `python3 -m orion.runtime.run`.
const (
	// ExitCompleted: the flow returned; the result state is COMPLETED.
	ExitCompleted = 0
	// ExitFailed: the flow raised; the result state is FAILED and the
	// traceback went to stderr. Also the exit code of an interpreter older
	// than 3.9, which writes no result file.
	ExitFailed = 1
	// ExitInvalid: the flow could not be loaded or the parameters do not fit
	// its signature; the result state is FAILED.
	ExitInvalid = 2
)

// Result states written by the run entry point.
const (
	StateCompleted = "COMPLETED"
	StateFailed    = "FAILED"
)

// RunCommand returns the argv that runs one flow:
//
//	[Executable(), "-u", "-m", "orion.runtime.run", "--flow-file", flowFile,
//	 "--flow-name", flowName, "--parameters-file", parametersFile,
//	 "--result-file", resultFile]
//
// Optional flags whose value is "" are left out. Run it with Env(dir, ...)
// where dir comes from Install, so the runtime is importable.
//
// The process loads flowFile with run_name "__orion_flow__" (so `if __name__
// == "__main__":` blocks do not run), reads the parameters (a JSON object;
// default {}), calls the flow and writes the result file atomically; see
// ExitCompleted, ExitFailed and ExitInvalid. Output is unbuffered.
func RunCommand(flowFile, flowName, parametersFile, resultFile string) []string {
	return RunCommandWith(Executable(), flowFile, flowName, parametersFile, resultFile)
}

// RunCommandWith is RunCommand with interpreter as argv[0] (for a container,
// its image's python3).
func RunCommandWith(interpreter, flowFile, flowName, parametersFile, resultFile string) []string {
	argv := []string{interpreter, "-u", "-m", "orion.runtime.run", "--flow-file", flowFile}
	if flowName != "" {
		argv = append(argv, "--flow-name", flowName)
	}
	if parametersFile != "" {
		argv = append(argv, "--parameters-file", parametersFile)
	}
	if resultFile != "" {
		argv = append(argv, "--result-file", resultFile)
	}
	return argv
}

// RunResult is the result file of a flow run:
//
//	{"state": "COMPLETED", "message": "Flow run completed.", "result": "<repr, at most 1000 chars>"}
//	{"state": "FAILED", "message": "<ExcType>: <msg>"}
//	{"state": "FAILED", "message": "Flow run received invalid parameters: ..."}
//	{"state": "FAILED", "message": "Flow could not be loaded: ..."}
type RunResult struct {
	State   string `json:"state"`
	Message string `json:"message"`
	// Result is repr() of the flow's return value, cut to 1000 characters;
	// "" unless State is COMPLETED.
	Result string `json:"result"`
}

// ReadResult reads the result file at path. When the run wrote none (it was
// killed, or the interpreter could not start it) the error wraps
// os.ErrNotExist.
func ReadResult(path string) (*RunResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("python: flow run wrote no result file: %w", err)
		}
		return nil, fmt.Errorf("python: read flow run result: %w", err)
	}
	var res RunResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("python: decode flow run result %s: %w", path, err)
	}
	if res.State == "" {
		return nil, fmt.Errorf("python: flow run result %s has no state", path)
	}
	return &res, nil
}
