package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	python "github.com/orion-run/orion/sdk/python"
)

// pthFile is the name of the .pth file `orion sdk install` writes into an
// interpreter's site-packages.
const pthFile = "orion-runtime.pth"

func sdkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sdk",
		Short: "Use Orion's Python runtime (flow, DeploymentSpec, the prefect shim) from your own Python",
		Long: `Orion's Python runtime ships inside this binary. Put it on PYTHONPATH with

  export PYTHONPATH="$(orion sdk path)"

or install it for one interpreter (no pip needed) with 'orion sdk install'.
Calling a @flow function then records a flow run through the API.`,
	}
	cmd.AddCommand(sdkPathCommand(), sdkInstallCommand(), sdkUninstallCommand())
	return cmd
}

// installRuntime unpacks the runtime under $ORION_HOME and records this
// binary's path in it, so the runtime can start an embedded server.
func installRuntime() (string, error) {
	dir, err := python.Install(client.Home())
	if err != nil {
		return "", err
	}
	exe, err := os.Executable()
	if err == nil {
		if resolved, rerr := filepath.EvalSymlinks(exe); rerr == nil {
			exe = resolved
		}
		err = python.RecordBinary(dir, exe)
	}
	if err != nil {
		return "", fmt.Errorf("record the orion binary's path: %w", err)
	}
	return dir, nil
}

func sdkPathCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the folder to put on PYTHONPATH (unpacks the runtime under $ORION_HOME)",
		Example: `  PYTHONPATH="$(orion sdk path)" python3 flow.py`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := installRuntime()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			return nil
		},
	}
}

// pythonSite describes an interpreter's site-packages folders.
type pythonSite struct {
	Version        string `json:"version"`
	Executable     string `json:"executable"`
	UserSite       string `json:"user_site"`
	EnableUserSite *bool  `json:"enable_user_site"`
	Venv           bool   `json:"venv"`
	Purelib        string `json:"purelib"`
	Supported      bool   `json:"supported"`
}

// target is where the .pth file goes: the virtual environment's
// site-packages inside a venv (which ignores the user site), else the user
// site-packages (`python3 -m site --user-site`).
func (s *pythonSite) target() string {
	if s.Venv && s.Purelib != "" {
		return s.Purelib
	}
	return s.UserSite
}

const siteScript = `import json, site, sys, sysconfig
print(json.dumps({
    "version": sys.version.split()[0],
    "executable": sys.executable,
    "user_site": site.getusersitepackages(),
    "enable_user_site": site.ENABLE_USER_SITE,
    "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
    "purelib": sysconfig.get_paths().get("purelib", ""),
    "supported": sys.version_info >= (3, 9),
}))`

func inspectPython(ctx context.Context, interpreter string) (*pythonSite, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, interpreter, "-c", siteScript)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The user's PYTHONPATH must not change what the interpreter reports.
	cmd.Env = append(os.Environ(), "PYTHONPATH=")
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cannot ask %s for its site-packages: %v %s", interpreter, err, strings.TrimSpace(stderr.String()))
	}
	var s pythonSite
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("unexpected answer from %s: %v: %s", interpreter, err, strings.TrimSpace(stdout.String()))
	}
	if s.target() == "" {
		return nil, fmt.Errorf("%s reports no site-packages folder to install into", interpreter)
	}
	return &s, nil
}

func sdkInstallCommand() *cobra.Command {
	var interpreter string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Make `import orion` (and the prefect shim) work in a Python interpreter, without pip",
		Long: `Writes orion-runtime.pth into the interpreter's user site-packages
(python3 -m site --user-site; the virtual environment's site-packages when
the interpreter runs in one), pointing at the runtime unpacked under
$ORION_HOME. Run it again after upgrading orion; 'orion sdk uninstall'
removes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := installRuntime()
			if err != nil {
				return err
			}
			site, err := inspectPython(cmd.Context(), interpreter)
			if err != nil {
				return err
			}
			if !site.Supported {
				return fmt.Errorf("%s is Python %s; Orion's runtime needs Python 3.9 or newer (choose one with --python)", interpreter, site.Version)
			}
			folder := site.target()
			if err := os.MkdirAll(folder, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", folder, err)
			}
			pth := filepath.Join(folder, pthFile)
			if err := python.WriteFileAtomic(pth, []byte(dir+"\n")); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Installed Orion's Python runtime for %s (Python %s, %s):\n", interpreter, site.Version, site.Executable)
			fmt.Fprintf(out, "  wrote %s\n  -> %s\n", pth, dir)
			fmt.Fprintln(out, "`import orion` and `from prefect import flow` now work in that interpreter; run `orion sdk install` again after upgrading orion.")
			if !site.Venv && (site.EnableUserSite == nil || !*site.EnableUserSite) {
				fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s has user site-packages disabled (PYTHONNOUSERSITE, -s or a different effective user), so it will not read %s; use PYTHONPATH=\"$(orion sdk path)\" instead.\n", interpreter, pth)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&interpreter, "python", python.Interpreter(), "the interpreter to install for (ORION_PYTHON)")
	return cmd
}

func sdkUninstallCommand() *cobra.Command {
	var interpreter string
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove what `orion sdk install` wrote for a Python interpreter",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			site, err := inspectPython(cmd.Context(), interpreter)
			if err != nil {
				return err
			}
			removed := false
			for _, folder := range uniqueNonEmpty(site.target(), site.UserSite) {
				pth := filepath.Join(folder, pthFile)
				err := os.Remove(pth)
				switch {
				case err == nil:
					fmt.Fprintf(cmd.OutOrStdout(), "Removed %s\n", pth)
					removed = true
				case !errors.Is(err, os.ErrNotExist):
					return err
				}
			}
			if !removed {
				fmt.Fprintf(cmd.OutOrStdout(), "Orion's Python runtime is not installed for %s (no %s in %s)\n", interpreter, pthFile, site.target())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&interpreter, "python", python.Interpreter(), "the interpreter to uninstall from (ORION_PYTHON)")
	return cmd
}

func uniqueNonEmpty(values ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
