package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		pairs   []string
		json    string
		want    map[string]any
		wantErr string
	}{
		{name: "nothing given", want: nil},
		{name: "plain string", pairs: []string{"name=world"}, want: map[string]any{"name": "world"}},
		{name: "number", pairs: []string{"n=3"}, want: map[string]any{"n": 3.0}},
		{name: "float", pairs: []string{"x=2.5"}, want: map[string]any{"x": 2.5}},
		{name: "bool", pairs: []string{"on=true", "off=false"}, want: map[string]any{"on": true, "off": false}},
		{name: "null", pairs: []string{"v=null"}, want: map[string]any{"v": nil}},
		{name: "JSON string keeps quotes off", pairs: []string{`s="3"`}, want: map[string]any{"s": "3"}},
		{name: "list", pairs: []string{"xs=[1, \"a\"]"}, want: map[string]any{"xs": []any{1.0, "a"}}},
		{name: "object", pairs: []string{`o={"a": {"b": 1}}`}, want: map[string]any{"o": map[string]any{"a": map[string]any{"b": 1.0}}}},
		{name: "invalid JSON is a string", pairs: []string{"s=[1,"}, want: map[string]any{"s": "[1,"}},
		{name: "empty value is an empty string", pairs: []string{"s="}, want: map[string]any{"s": ""}},
		{name: "value with equals sign", pairs: []string{"q=a=b"}, want: map[string]any{"q": "a=b"}},
		{name: "value with commas", pairs: []string{"csv=a,b,c"}, want: map[string]any{"csv": "a,b,c"}},
		{name: "number with trailing text is a string", pairs: []string{"v=3 apples"}, want: map[string]any{"v": "3 apples"}},
		{name: "last --param wins", pairs: []string{"n=1", "n=2"}, want: map[string]any{"n": 2.0}},
		{name: "--params alone", json: `{"a": 1, "b": "x"}`, want: map[string]any{"a": 1.0, "b": "x"}},
		{
			name: "--param wins over --params", json: `{"a": 1, "b": "x"}`, pairs: []string{"a=5", "c=true"},
			want: map[string]any{"a": 5.0, "b": "x", "c": true},
		},
		{name: "empty --params object", json: `{}`, want: map[string]any{}},
		{name: "missing equals", pairs: []string{"name"}, wantErr: "invalid --param 'name': expected KEY=VALUE"},
		{name: "empty key", pairs: []string{"=3"}, wantErr: "invalid --param '=3': expected KEY=VALUE"},
		{name: "--params array", json: `[1]`, wantErr: "invalid --params: expected a JSON object"},
		{name: "--params null", json: `null`, wantErr: "invalid --params: expected a JSON object"},
		{name: "--params garbage", json: `{"a":`, wantErr: "invalid --params: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseParams(tt.pairs, tt.json)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParamFlagsParse_Struct(t *testing.T) {
	p := paramFlags{pairs: []string{"n=3", "name=Marvin"}, json: `{"tags": ["a"]}`}
	s, err := p.parse()
	if err != nil {
		t.Fatal(err)
	}
	got := s.AsMap()
	want := map[string]any{"n": 3.0, "name": "Marvin", "tags": []any{"a"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s, err := (&paramFlags{}).parse(); err != nil || s != nil {
		t.Fatalf("no flags: got %v, %v; want nil, nil", s, err)
	}
	if _, err := (&paramFlags{pairs: []string{"x"}}).parse(); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
		t.Fatalf("bad pair: got %v", err)
	}
}
