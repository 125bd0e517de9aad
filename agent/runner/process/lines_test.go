package process

import (
	"fmt"
	"strings"
	"testing"
)

// TestCutLines: complete lines are cut (a trailing incomplete one is
// left), long lines in pieces, each with the offset just past it.
func TestCutLines(t *testing.T) {
	long := strings.Repeat("a", MaxLineBytes)
	for _, tc := range []struct {
		name, data string
		want       []string
		used       int
	}{
		{"lines", "a\nb\n", []string{"a@2", "b@4"}, 4},
		{"incomplete tail left", "hello\nwor", []string{"hello@6"}, 6},
		{"crlf", "a\r\nb\n", []string{"a@3", "b@5"}, 5},
		{"empty lines", "\n\n", []string{"@1", "@2"}, 2},
		{"exact max", long + "\n", []string{fmt.Sprintf("%d a@%d", MaxLineBytes, MaxLineBytes+1)}, MaxLineBytes + 1},
		{"over max", long + "a\n", []string{fmt.Sprintf("%d a@%d", MaxLineBytes, MaxLineBytes), fmt.Sprintf("a@%d", MaxLineBytes+2)}, MaxLineBytes + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			used := cutLines([]byte(tc.data), func(line []byte, end int) {
				s := string(line)
				if len(s) > 10 {
					s = fmt.Sprintf("%d %c", len(s), s[0])
				}
				got = append(got, fmt.Sprintf("%s@%d", s, end))
			})
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || used != tc.used {
				t.Fatalf("got %q (used %d), want %q (used %d)", got, used, tc.want, tc.used)
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
