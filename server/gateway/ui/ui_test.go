package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestDashboardHandler_Routes(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="/ui/js/main.js">`},
		{"GET", "/flow-runs/0b7d0f0e-1234", 200, "text/html", `<main id="main"`}, // deep link: the app routes it
		{"GET", "/ui/js/main.js", 200, "text/javascript", "import"},
		{"GET", "/ui/app.css", 200, "text/css", ":root"},
		{"HEAD", "/deployments", 200, "text/html", ""},
		{"GET", "/ui/missing.js", 404, "", ""},
		{"GET", "/ui/index.html", 404, "", ""},
		{"GET", "/api/v2/nothing", 404, "", ""},
		{"POST", "/deployments", 405, "", ""},
	} {
		resp := get(t, h, tc.method, tc.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s = %d %q %.80q, want %d %q containing %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.code, tc.ctype, tc.body)
		}
	}
}

func TestDashboardHandler_CachingAndSecurityHeaders(t *testing.T) {
	h := Handler()
	resp := get(t, h, "GET", "/")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers: %v", resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("caching headers: %v", resp.Header)
	}
	if again := get(t, h, "GET", "/flow-runs", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation with the ETag = %d, want 304", again.StatusCode)
	}
	js := get(t, h, "GET", "/ui/js/api.js")
	if js.Header.Get("ETag") == etag || js.Header.Get("ETag") == "" {
		t.Fatalf("assets need their own ETag: %q vs %q", js.Header.Get("ETag"), etag)
	}
}

// TestDashboardAssets_UsePublicAPIOnly checks that scripts call only the
// public /api/v1 routes (through api.js) and never inline HTML.
func TestDashboardAssets_UsePublicAPIOnly(t *testing.T) {
	entries, err := static.ReadDir("static/js/pages")
	if err != nil || len(entries) == 0 {
		t.Fatalf("pages: %v", err)
	}
	for _, dir := range []string{"static/js", "static/js/pages"} {
		files, _ := static.ReadDir(dir)
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			b, _ := static.ReadFile(dir + "/" + f.Name())
			src := string(b)
			if strings.Contains(src, "innerHTML") || strings.Contains(src, "insertAdjacentHTML") {
				t.Errorf("%s sets HTML from strings; build nodes with h()", f.Name())
			}
			if strings.Contains(src, "fetch(") && f.Name() != "api.js" {
				t.Errorf("%s calls fetch directly; use api.js (token, errors)", f.Name())
			}
		}
	}
}
