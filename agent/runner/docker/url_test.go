package docker

import "testing"

// TestAPIURL_Loopback: the API URL is read as the client reads it, so a
// URL without a scheme ("127.0.0.1:4200", which the client accepts) is
// still recognised as loopback and rewritten for a container.
func TestAPIURL_Loopback(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:4200":    true,
		"127.0.0.1:4200":           true,
		"localhost:4200":           true,
		"https://localhost":        true,
		"http://[::1]:4200":        true,
		"[::1]:4200":               true,
		"http://orion.example:443": false,
		"orion.example:4200":       false,
		"10.0.0.5:4200":            false,
		"http://%zz":               false,
	} {
		if got := loopbackURL(raw); got != want {
			t.Errorf("loopbackURL(%q) = %v, want %v", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"http://127.0.0.1:4200": "http://" + hostGateway + ":4200",
		"127.0.0.1:4200":        "http://" + hostGateway + ":4200",
		"https://localhost":     "https://" + hostGateway,
	} {
		if got := rewriteHost(raw, hostGateway); got != want {
			t.Errorf("rewriteHost(%q) = %q, want %q", raw, got, want)
		}
	}
}
