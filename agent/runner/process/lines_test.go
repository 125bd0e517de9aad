package process

import (
	"strings"
	"testing"
)

func TestLineWriter_Splits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"across writes", []string{"he", "llo\nwor", "ld"}, []string{"hello", "world"}},
		{"crlf", []string{"a\r\nb\n"}, []string{"a", "b"}},
		{"empty lines", []string{"\n\n"}, []string{"", ""}},
		{"exact max", []string{strings.Repeat("a", MaxLineBytes) + "\n"}, []string{strings.Repeat("a", MaxLineBytes)}},
		{"exact max then newline", []string{strings.Repeat("a", MaxLineBytes), "\nb"}, []string{strings.Repeat("a", MaxLineBytes), "b"}},
		{"over max", []string{strings.Repeat("a", MaxLineBytes+1) + "\n"}, []string{strings.Repeat("a", MaxLineBytes), "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			w := newLineWriter(&outputMux{fn: func(_, l string) { got = append(got, l) }}, "stdout")
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("write: %d %v", n, err)
				}
			}
			w.flush()
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("got %d lines %.40q, want %d", len(got), got, len(tc.want))
			}
		})
	}
}

func TestRuneSafeCut(t *testing.T) {
	euro := []byte("€") // 3 bytes
	for _, tc := range []struct {
		in   []byte
		want int
	}{
		{[]byte("abc"), 3},
		{append([]byte("ab"), euro...), 5},
		{append([]byte("ab"), euro[:2]...), 2},
		{append([]byte("ab"), euro[:1]...), 2},
		{euro[:2], 2}, // nothing complete to cut at: deliver as is
		{[]byte{'a', 0xff}, 2},
	} {
		if got := runeSafeCut(tc.in); got != tc.want {
			t.Errorf("runeSafeCut(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
