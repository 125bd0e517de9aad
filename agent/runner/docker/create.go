package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/infra"
)

// Labels the runner reads back when it reattaches after a restart.
const (
	labelAutoRemove = "io.orion.auto-remove"
	labelCollect    = "io.orion.collect"
)

// hostGateway is the name a container on a bridge network uses for the
// engine's host, as Prefect does.
const hostGateway = "host.docker.internal"

// create makes sure the image is there (per the pull policy), then creates
// the container with the run's files copied in. When a container of that
// name exists already (a redelivery of the same run and epoch), it is
// adopted: started reports whether it was started before.
func (r *Runner) create(ctx context.Context, cli *client.Client, spec runner.Spec, name string, log hclog.Logger) (id string, started bool, err error) {
	if existing, err := cli.ContainerInspect(ctx, name); err == nil {
		if existing.Config == nil || existing.Config.Labels[LabelFlowRunID] != spec.FlowRunID {
			return "", false, fmt.Errorf("a container named %s exists and does not belong to flow run %s: remove it", name, spec.FlowRunID)
		}
		log.Info("adopting the container of an earlier delivery of this run")
		wasStarted := existing.State != nil && (existing.State.Running || existing.State.StartedAt != "" && existing.State.StartedAt != "0001-01-01T00:00:00Z")
		return existing.ID, wasStarted, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", false, fmt.Errorf("docker: %s", engineMessage(err))
	}
	cfg := spec.Infra.Docker
	if err := r.ensureImage(ctx, cli, cfg, log); err != nil {
		return "", false, err
	}
	cc, hc, nc, extraNetworks := containerConfig(spec, cfg)
	resp, err := cli.ContainerCreate(ctx, cc, hc, nc, nil, name)
	if err != nil {
		return "", false, fmt.Errorf("create container %s: %s", name, engineMessage(err))
	}
	for _, n := range extraNetworks {
		if err := cli.NetworkConnect(ctx, n, resp.ID, nil); err != nil {
			r.remove(cli, resp.ID, log)
			return "", false, fmt.Errorf("connect container %s to network %s: %s", name, n, engineMessage(err))
		}
	}
	files, err := filesTar(spec)
	if err != nil {
		r.remove(cli, resp.ID, log)
		return "", false, fmt.Errorf("pack the run's files: %w", err)
	}
	if err := cli.CopyToContainer(ctx, resp.ID, "/", files, container.CopyToContainerOptions{}); err != nil {
		r.remove(cli, resp.ID, log)
		return "", false, fmt.Errorf("copy the run's files into container %s: %s", name, engineMessage(err))
	}
	if err := checkCommand(ctx, cli, resp.ID, cc, cfg.Image); err != nil {
		r.remove(cli, resp.ID, log)
		return "", false, err
	}
	return resp.ID, false, nil
}

// checkCommand looks for the command's executable in the created container
// (its files are in place, it has not started), the way exec would: a
// path with a slash as is (relative to the working directory), a bare name
// in PATH. Under docker-init a missing executable would only show as exit
// code 127 once started; checking first makes it a start failure.
func checkCommand(ctx context.Context, cli *client.Client, id string, cc *container.Config, img string) error {
	name := cc.Cmd[0]
	var candidates []string
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			name = path.Join(cc.WorkingDir, name)
		}
		candidates = []string{name}
	} else {
		pathVar := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		info, err := cli.ContainerInspect(ctx, id)
		if err == nil && info.Config != nil {
			// The merged environment: the image's, then the run's.
			for _, kv := range info.Config.Env {
				if k, v, ok := strings.Cut(kv, "="); ok && k == "PATH" {
					pathVar = v
				}
			}
		}
		for _, dir := range strings.Split(pathVar, ":") {
			if dir != "" {
				candidates = append(candidates, path.Join(dir, name))
			}
		}
	}
	for _, c := range candidates {
		st, err := cli.ContainerStatPath(ctx, id, c)
		if err == nil && !st.Mode.IsDir() {
			return nil
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			return nil // cannot tell; let the start decide
		}
	}
	return fmt.Errorf("exec: %q: executable file not found in image %s (looked in %s)", cc.Cmd[0], img, strings.Join(candidates, ", "))
}

// ensureImage applies the pull policy.
func (r *Runner) ensureImage(ctx context.Context, cli *client.Client, cfg infra.Docker, log hclog.Logger) error {
	policy := cfg.PullPolicy()
	if policy != infra.PullAlways {
		_, err := cli.ImageInspect(ctx, cfg.Image)
		if err == nil {
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspect image %s: %s", cfg.Image, engineMessage(err))
		}
		if policy == infra.PullNever {
			return fmt.Errorf("image %s is not present on the Docker engine and image_pull_policy is NEVER: build or pull it there first", cfg.Image)
		}
	}
	log.Info("pulling image", "image", cfg.Image)
	rc, err := cli.ImagePull(ctx, cfg.Image, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pull image %s: %s", cfg.Image, engineMessage(err))
	}
	defer rc.Close()
	// The engine reports pull failures inside the progress stream.
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("pull image %s: %v", cfg.Image, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("pull image %s: %s", cfg.Image, msg.Error)
		}
	}
}

// containerConfig builds the engine's create request.
func containerConfig(spec runner.Spec, cfg infra.Docker) (*container.Config, *container.HostConfig, *network.NetworkingConfig, []string) {
	labels := map[string]string{}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	labels[LabelFlowRunID] = spec.FlowRunID
	labels[LabelLeaseEpoch] = strconv.FormatInt(spec.Epoch, 10)
	for k, v := range map[string]string{
		LabelFlowRunName: spec.FlowRunName, LabelFlowName: spec.FlowName,
		LabelDeploymentID: spec.DeploymentID, LabelDeploymentName: spec.DeploymentName,
	} {
		if v != "" {
			labels[k] = v
		}
	}
	labels[labelAutoRemove] = strconv.FormatBool(cfg.AutoRemove)
	if len(spec.Collect) > 0 {
		b, _ := json.Marshal(spec.Collect)
		labels[labelCollect] = string(b)
	}

	mode := cfg.NetworkMode
	var extra []string
	if mode == "" && len(cfg.Networks) > 0 {
		mode, extra = cfg.Networks[0], cfg.Networks[1:]
	} else if len(cfg.Networks) > 0 {
		extra = cfg.Networks
	}
	env := append([]string(nil), spec.Env...)
	var extraHosts []string
	if loopbackURL(spec.APIURL) {
		if mode == "" {
			// A loopback API URL is reachable only from the host's network
			// namespace.
			mode = "host"
		} else if mode != "host" {
			// Prefect's way: the engine's host under a well-known name.
			rewritten := rewriteHost(spec.APIURL, hostGateway)
			env = setEnv(env, "ORION_API_URL", rewritten)
			extraHosts = append(extraHosts, hostGateway+":host-gateway")
		}
	}
	init := true
	cc := &container.Config{
		Image:      cfg.Image,
		Cmd:        spec.Command,
		Env:        env,
		WorkingDir: runner.ContainerWorkDir,
		Labels:     labels,
		User:       cfg.User,
	}
	hc := &container.HostConfig{
		NetworkMode: container.NetworkMode(mode),
		Binds:       cfg.Volumes,
		ExtraHosts:  extraHosts,
		// docker-init as PID 1 forwards signals to the flow and reaps
		// zombies, so a flow without signal handlers stops on SIGTERM.
		Init:      &init,
		Resources: resources(cfg.Resources),
	}
	return cc, hc, &network.NetworkingConfig{}, extra
}

// resources maps requests and limits onto the engine's settings: a CPU
// limit becomes NanoCPUs, a CPU request CPU shares (1024 per core), a
// memory limit the hard limit and a memory request the soft reservation.
func resources(r infra.Resources) container.Resources {
	var out container.Resources
	if r.Limits.CPU != "" {
		m, _ := infra.ParseCPU(r.Limits.CPU)
		out.NanoCPUs = m * 1_000_000
	}
	if r.Requests.CPU != "" {
		m, _ := infra.ParseCPU(r.Requests.CPU)
		out.CPUShares = max(2, m*1024/1000)
	}
	if r.Limits.Memory != "" {
		out.Memory, _ = infra.ParseMemory(r.Limits.Memory)
	}
	if r.Requests.Memory != "" {
		out.MemoryReservation, _ = infra.ParseMemory(r.Requests.Memory)
	}
	return out
}

// parseAPIURL parses an API URL as the client reads it: "HOST:PORT"
// without a scheme means http.
func parseAPIURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	return url.Parse(raw)
}

// loopbackURL reports whether an API URL names this host's loopback.
func loopbackURL(raw string) bool {
	u, err := parseAPIURL(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rewriteHost is the API URL raw with its host replaced by host.
func rewriteHost(raw, host string) string {
	u, err := parseAPIURL(raw)
	if err != nil {
		return raw
	}
	if p := u.Port(); p != "" {
		u.Host = net.JoinHostPort(host, p)
	} else {
		u.Host = host
	}
	return u.String()
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// filesTar packs the run's working directory (without the runner's state
// directory) as orion/run/... and the Python runtime as orion/runtime/...,
// to be extracted at the container's root. The working directory is
// world-writable inside the container so a flow running as any user can
// write there.
func filesTar(spec runner.Spec) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []struct {
		host, target string
		dirMode      int64
		fileMode     int64
	}{{spec.Dir, runner.ContainerWorkDir, 0o777, 0o666}}
	if spec.RuntimeDir != "" {
		dirs = append(dirs, struct {
			host, target string
			dirMode      int64
			fileMode     int64
		}{spec.RuntimeDir, runner.ContainerRuntimeDir, 0o755, 0o644})
	}
	if err := tw.WriteHeader(&tar.Header{Name: "orion/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		target := strings.TrimPrefix(d.target, "/")
		err := filepath.WalkDir(d.host, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(d.host, path)
			if e.IsDir() && (rel == StateDirName || e.Name() == runner.BytecodeDirName) {
				return filepath.SkipDir
			}
			name := filepath.ToSlash(filepath.Join(target, rel))
			switch {
			case e.IsDir():
				return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: d.dirMode, Typeflag: tar.TypeDir})
			case e.Type().IsRegular():
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if err := tw.WriteHeader(&tar.Header{Name: name, Mode: d.fileMode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
					return err
				}
				_, err = tw.Write(data)
				return err
			}
			return nil // sockets, symlinks: not part of a run's files
		})
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// collect copies the named files from the container's working directory
// into dir. Missing files are skipped.
func collect(ctx context.Context, cli *client.Client, id, dir string, names []string) error {
	for _, n := range names {
		if strings.Contains(n, "/") || n == ".." {
			continue
		}
		rc, _, err := cli.CopyFromContainer(ctx, id, runner.ContainerWorkDir+"/"+n)
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy %s out of the container: %s", n, engineMessage(err))
		}
		err = untarFile(rc, filepath.Join(dir, n))
		_ = rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// untarFile writes the first regular file of a tar stream to path.
func untarFile(r io.Reader, path string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o600)
	}
}

// engineMessage is the engine's error text without the client's prefix.
func engineMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	return strings.Join(strings.Fields(s), " ")
}
