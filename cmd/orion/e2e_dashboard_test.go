package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// dashboardFixtures are the deployments the browser tests use besides the
// quickstart's: a long-running command flow (to cancel), a flow with typed
// parameters (to see the Run form refuse a bad value) and a daily schedule
// in a time zone (for the schedule in words).
const dashboardYAML = `- name: sleepy
  flow_name: sleeper
  command: ["sh", "-c", "echo started; sleep 300"]
  tags: [long]
- name: morning-report
  flow_name: reports
  command: ["echo", "report"]
  schedule:
    cron: "0 9 * * *"
    timezone: America/New_York
  tags: [daily, reports]
`

const typedFlow = `from prefect import flow
from prefect.deployments import DeploymentSpec

@flow
def counter(times: int = 1, label: str = "x"):
    print(f"count {times} {label}")

DeploymentSpec(flow=counter, name="typed")
`

// deploymentID looks a deployment up by name over the HTTP API.
func (e *env) deploymentID(flow, name string) string {
	e.t.Helper()
	code, body := e.httpGet("/api/v1/deployments/name/" + flow + "/" + name)
	var doc struct {
		Deployment struct {
			ID string `json:"id"`
		} `json:"deployment"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || doc.Deployment.ID == "" {
		e.t.Fatalf("GET deployment %s/%s = %d %s", flow, name, code, body)
	}
	return doc.Deployment.ID
}

// runCount counts a deployment's runs over the HTTP API.
func (e *env) runCount(depID string) int {
	e.t.Helper()
	_, body := e.httpGet("/api/v1/flow_runs?deployment_id=" + depID)
	var doc struct {
		FlowRuns []json.RawMessage `json:"flow_runs"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		e.t.Fatalf("list runs: %v %s", err, body)
	}
	return len(doc.FlowRuns)
}

// xpathText selects an element of tag under root whose text contains s.
func xpathText(root, tag, s string) string {
	return fmt.Sprintf(`//%s//%s[contains(., %q)]`, root, tag, s)
}

// TestDashboard_EndToEnd drives the dashboard in headless Chromium against
// a real server and agent: find the hello-world deployment, Run it with a
// parameter, watch it reach Completed with its log line, see the Run form
// refuse a bad value, cancel a long-running run, and check every page at
// 1280 and 390 px. With ORION_SCREENSHOTS=DIR it writes the pages' PNGs
// (make screenshots).
func TestDashboard_EndToEnd(t *testing.T) {
	e := newEnv(t)
	shots := os.Getenv("ORION_SCREENSHOTS")
	b := newBrowser(t, 1280, 900)
	server := e.startServer()
	agent := e.start("Agent started! Looking for work from queue 'default'", "agent", "start", "--work-queue", "default", "--name", "worker-1")
	b.diag = func() string {
		runs := e.run("flow-run", "ls")
		return "flow runs:\n" + runs.stdout + runs.stderr + "\nserver:\n" + lastLines(server.output(), 40) + "\nagent:\n" + lastLines(agent.output(), 60)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"dashboard.yaml": dashboardYAML, "typed.py": typedFlow} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("deployment", "create", "examples/hello/flow.py")
	e.mustRun("deployment", "create", filepath.Join(dir, "dashboard.yaml"))
	e.mustRun("deployment", "create", filepath.Join(dir, "typed.py"))
	helloID := e.deploymentID("hello-world", "hello-world-daily")

	var helloRun string
	t.Run("find the deployment", func(t *testing.T) {
		b.t = t
		b.do("open the dashboard",
			chromedp.Navigate(e.url()+"/"),
			chromedp.WaitVisible(`//a[contains(., "hello-world/hello-world-daily")]`),
			chromedp.WaitVisible(xpathText("table", "td", "every day at 09:00")),
			chromedp.WaitVisible(xpathText("table", "td", "America/New_York")),
			chromedp.WaitVisible(css("a.mark, span.marks .none")))
		b.do("filter by name",
			chromedp.SendKeys(css("#dep-filter"), "hello"),
			chromedp.WaitNotPresent(`//a[contains(., "sleeper/sleepy")]`),
			chromedp.WaitVisible(`//a[contains(., "hello-world/hello-world-daily")]`))
		if got := eval[string](b, `location.search`); got != "?q=hello" {
			t.Fatalf("filter not kept in the URL: %q", got)
		}
		b.do("filter by tag",
			setField("#dep-filter", ""),
			setField("#dep-tag", "long"),
			chromedp.WaitVisible(`//a[contains(., "sleeper/sleepy")]`),
			chromedp.WaitNotPresent(`//a[contains(., "hello-world/hello-world-daily")]`))
	})

	t.Run("run with a parameter, see it complete and its log line", func(t *testing.T) {
		b.t = t
		b.do("open the deployment and press Run",
			chromedp.Navigate(e.url()+"/deployments"),
			chromedp.Click(`//a[contains(., "hello-world/hello-world-daily")]`),
			chromedp.WaitVisible(css("#run-button")),
			chromedp.WaitVisible(xpathText("section", "dd", "pushed to the server")),
			chromedp.Click(css("#run-button")),
			chromedp.WaitVisible(css("#param-name")),
			chromedp.SendKeys(css("#param-name"), "Marvin"),
			chromedp.Click(css("form.run-form button[type=submit]")),
			chromedp.WaitVisible(css("#run-state .st-COMPLETED")),
			chromedp.WaitVisible(xpathText(`ol[@id="run-logs"]`, "span", "Hello Marvin!")))
		helloRun = strings.TrimPrefix(eval[string](b, `location.pathname`), "/flow-runs/")
		for sel, want := range map[string]string{"#run-parameters": `"Marvin"`, "#run-timings": "worker-1", "#run-timeline": "Completed"} {
			if got := eval[string](b, fmt.Sprintf(`document.querySelector(%q).textContent`, sel)); !strings.Contains(got, want) {
				t.Errorf("%s shows %q, want %q in it", sel, got, want)
			}
		}
		if n := eval[int](b, `document.querySelectorAll('#run-timeline li').length`); n != 4 {
			t.Errorf("timeline has %d states, want 4 (Scheduled, Pending, Running, Completed)", n)
		}
		b.screenshot(shots, "flow-run.png")
	})

	t.Run("the Run form refuses a bad value before submitting", func(t *testing.T) {
		b.t = t
		typedID := e.deploymentID("counter", "typed")
		b.do("submit a non-integer",
			chromedp.Navigate(e.url()+"/deployments/"+typedID),
			chromedp.Click(css("#run-button")),
			chromedp.SendKeys(css("#param-times"), "many"),
			chromedp.Click(css("form.run-form button[type=submit]")),
			chromedp.WaitVisible(`//p[@id="param-times-err"][contains(., "integer")]`))
		if got := eval[string](b, `document.querySelector('#param-times').getAttribute('aria-invalid')`); got != "true" {
			t.Errorf("aria-invalid = %q", got)
		}
		if n := e.runCount(typedID); n != 0 {
			t.Fatalf("a refused form created %d runs", n)
		}
		b.screenshot(shots, "deployment.png")
		b.do("submit an integer",
			setField("#param-times", "3"),
			chromedp.Click(css("form.run-form button[type=submit]")),
			chromedp.WaitVisible(css("#run-state .st-COMPLETED")),
			chromedp.WaitVisible(xpathText(`ol[@id="run-logs"]`, "span", "count 3 x")))
	})

	t.Run("cancel a long-running run", func(t *testing.T) {
		b.t = t
		b.do("start the run and cancel it",
			chromedp.Navigate(e.url()+"/deployments/"+e.deploymentID("sleeper", "sleepy")),
			chromedp.Click(css("#run-button")),
			chromedp.Click(css("form.run-form button[type=submit]")),
			chromedp.WaitVisible(css("#run-state .st-RUNNING")),
			chromedp.WaitVisible(xpathText(`ol[@id="run-logs"]`, "span", "started")),
			chromedp.Click(css("#cancel-button")),
			chromedp.WaitVisible(css("#run-state .st-CANCELLED")),
			chromedp.WaitVisible(xpathText(`ol[@id="run-timeline"]`, "span", "Cancelling")))
		if eval[bool](b, `document.querySelector('#cancel-button').hidden`) != true {
			t.Error("Cancel is still offered on a cancelled run")
		}
	})

	t.Run("flow runs list, chart and live updates", func(t *testing.T) {
		b.t = t
		b.do("open the flow runs",
			chromedp.Navigate(e.url()+"/flow-runs"),
			chromedp.WaitVisible(css("figure.chart svg rect")),
			chromedp.WaitVisible(fmt.Sprintf(`//a[@href="/flow-runs/%s"]`, helloRun)),
			chromedp.WaitVisible(xpathText("ul", "li", "Completed: ")))
		b.screenshot(shots, "flow-runs.png")
		// A run created elsewhere appears without a reload.
		resp, err := http.Post(e.url()+"/api/v1/deployments/"+helloID+"/runs", "application/json", strings.NewReader(`{"name": "live-arrival", "parameters": {"name": "Ford"}}`))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("create run over HTTP: %v %v", resp, err)
		}
		resp.Body.Close()
		b.do("see the new run arrive", chromedp.WaitVisible(`//a[contains(., "live-arrival")]`))
		b.do("filter by state",
			setField("#run-state", "CANCELLED"),
			chromedp.WaitNotPresent(fmt.Sprintf(`//a[@href="/flow-runs/%s"]`, helloRun)),
			chromedp.WaitVisible(xpathText("table", "span", "Cancelled")))
		if got := eval[string](b, `location.search`); got != "?state=CANCELLED" {
			t.Errorf("state filter not in the URL: %q", got)
		}
	})

	t.Run("work queues and agents", func(t *testing.T) {
		b.t = t
		b.do("open work queues",
			chromedp.Navigate(e.url()+"/work-queues"),
			chromedp.WaitVisible(xpathText("table", "th", "default")),
			chromedp.WaitVisible(xpathText("table", "th", "worker-1")),
			chromedp.WaitVisible(xpathText("table", "td", "Connected")))
		b.screenshot(shots, "work-queues.png")
		b.do("deployments show their last runs",
			chromedp.Navigate(e.url()+"/deployments"),
			chromedp.WaitVisible(`//a[contains(@class, "st-CANCELLED")][contains(@aria-label, "Cancelled")]`),
			chromedp.WaitVisible(`//tr[.//a[contains(., "hello-world/hello-world-daily")]]//a[contains(@class, "st-COMPLETED")]`))
		b.screenshot(shots, "deployments.png")
	})

	t.Run("usable at 390 px", func(t *testing.T) {
		b.t = t
		b.do("narrow viewport", chromedp.EmulateViewport(390, 844))
		for _, path := range []string{"/deployments", "/deployments/" + helloID, "/flow-runs", "/flow-runs/" + helloRun, "/work-queues"} {
			b.do("open "+path, chromedp.Navigate(e.url()+path), chromedp.WaitVisible(css("main h1")), chromedp.WaitVisible(css("main table, main .empty, main dl")))
			if over := eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
				t.Errorf("%s overflows a 390 px screen by %d px", path, over)
			}
			if path == "/flow-runs/"+helloRun {
				b.do("logs loaded", chromedp.WaitVisible(xpathText(`ol[@id="run-logs"]`, "span", "Hello Marvin!")))
				b.screenshot(shots, "flow-run-390.png")
			}
		}
	})
}

// TestDashboard_AuthToken checks the dashboard with auth on: a refused
// call opens the token prompt, a pasted token is sent as a bearer token,
// a scope that may not run shows a clear message, a bad token is refused.
func TestDashboard_AuthToken(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, 1280, 900)
	e.startServer()
	secret := func(name, scope string) string {
		var doc struct {
			Secret string `json:"secret"`
		}
		out := e.mustRun("token", "create", "--name", name, "--scope", scope, "-o", "json").stdout
		if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Secret == "" {
			t.Fatalf("token create: %v %s", err, out)
		}
		return doc.Secret
	}
	admin := secret("admin", "admin")
	t.Setenv("ORION_API_KEY", admin)
	reader := secret("viewer", "read")
	e.mustRun("deployment", "create", "examples/hello/flow.py")

	b.do("the prompt opens on a 401 and the token is used",
		chromedp.Navigate(e.url()+"/"),
		chromedp.WaitVisible(css("#token-dialog[open] #token-input")),
		chromedp.SendKeys(css("#token-input"), reader),
		chromedp.Click(css("#token-save")),
		chromedp.WaitVisible(`//a[contains(., "hello-world/hello-world-daily")]`))
	if !eval[bool](b, fmt.Sprintf(`sessionStorage.getItem('orion.api_token') === %q && localStorage.getItem('orion.api_token') === null`, reader)) {
		t.Error("the token is not kept in sessionStorage only")
	}
	b.do("a read token may not run",
		chromedp.Click(`//a[contains(., "hello-world/hello-world-daily")]`),
		chromedp.Click(css("#run-button")),
		chromedp.Click(css("form.run-form button[type=submit]")),
		chromedp.WaitVisible(`//p[contains(@class, "form-error")][contains(., "Not allowed")][contains(., "scope read")]`))
	b.do("a bad token is refused with the prompt",
		chromedp.Click(css("#token-button")),
		chromedp.WaitVisible(css("#token-dialog[open]")),
		setField("#token-input", "orion_nope_nope"),
		chromedp.Click(css("#token-save")),
		chromedp.WaitVisible(css("#token-dialog[open]")),
		chromedp.WaitVisible(`//div[@role="alert"][contains(., "invalid or revoked API token")]`))
	code, _ := e.httpGet("/api/v1/deployments")
	if code != http.StatusUnauthorized {
		t.Fatalf("the API without a token answered %d, want 401", code)
	}
}
