// Package ui serves Orion's dashboard: plain HTML, CSS and JavaScript ES
// modules embedded in the binary (no build step, no Node.js). The files
// under static/ are served at /ui/; every other GET that is not an API path
// gets index.html, so deep links (/flow-runs/<id>) load the app, which
// routes on the client. The dashboard talks to the public HTTP API only.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the URL path the assets are served under.
const Prefix = "/ui/"

// contentSecurityPolicy allows only the dashboard's own scripts, styles
// and API: no inline script, no third-party origin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file with its precomputed validator.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// Handler serves the dashboard. It is meant to be mounted at "/" behind the
// API routes; paths under /api/ that reach it are answered 404 so that a
// mistyped API call never gets HTML.
func Handler() http.Handler {
	assets := map[string]*asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		assets[strings.TrimPrefix(p, "static/")] = &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		panic("ui: embedded assets unreadable: " + err.Error()) // a build defect, caught by every test
	}
	index := assets["index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a := index
		if rest, ok := strings.CutPrefix(p, Prefix); ok {
			if a = assets[rest]; a == nil || rest == "index.html" {
				http.NotFound(w, r)
				return
			}
		}
		serve(w, r, a)
	})
}

// serve writes a with revalidation caching: browsers keep the file but ask
// every time (cheap 304s), so a new binary's assets are seen at once.
func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
