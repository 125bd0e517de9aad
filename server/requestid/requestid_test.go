package requestid

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestSane(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123":                        true,
		"":                               false,
		"has space":                      false,
		"quote\"":                        false,
		"new\nline":                      false,
		strings.Repeat("x", maxLength):   true,
		strings.Repeat("x", maxLength+1): false,
		"ünicode":                        false,
	} {
		if got := sane(id); got != want {
			t.Errorf("sane(%q) = %v, want %v", id, got, want)
		}
	}
	if a, b := New(), New(); a == b || len(a) != 16 || !sane(a) {
		t.Errorf("New() = %q, %q", a, b)
	}
}

func TestMiddleware_KeepsOrReplacesTheCallersID(t *testing.T) {
	var seen, seenHeader string
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenHeader = From(r.Context()), r.Header.Get(Header)
	}))
	for in, keep := range map[string]bool{"caller-id-1": true, "bad id": false, "": false} {
		req := httptest.NewRequest("GET", "/", nil)
		if in != "" {
			req.Header.Set(Header, in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Header().Get(Header)
		if seen != out || seenHeader != out || !sane(out) || (out == in) != keep {
			t.Errorf("in %q: handler saw %q/%q, response %q", in, seen, seenHeader, out)
		}
	}
}

func TestUnaryInterceptor_ContextAndFallback(t *testing.T) {
	icpt := UnaryInterceptor()
	var got string
	handler := func(ctx context.Context, _ any) (any, error) { got = From(ctx); return nil, nil }
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(MetadataKey, "from-gateway"))
	if _, err := icpt(ctx, nil, &grpc.UnaryServerInfo{}, handler); err != nil || got != "from-gateway" {
		t.Fatalf("forwarded id: %q %v", got, err)
	}
	if _, err := icpt(context.Background(), nil, &grpc.UnaryServerInfo{}, handler); err != nil || !sane(got) || got == "from-gateway" {
		t.Fatalf("generated id: %q %v", got, err)
	}
}
