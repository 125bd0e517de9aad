package python

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// BinaryFile names the file, inside an unpacked runtime directory, that
// holds the absolute path of the orion binary. The Python runtime reads it
// (after $ORION_BINARY, before `orion` on PATH) when it has to start a
// short-lived embedded server to track a direct flow call.
const BinaryFile = "orion-binary"

// RecordBinary writes binary's absolute path into runtimeDir/BinaryFile
// (atomically: temporary file, then rename). It does nothing when the file
// already holds that path.
func RecordBinary(runtimeDir, binary string) error {
	abs, err := filepath.Abs(binary)
	if err != nil {
		return fmt.Errorf("python: record binary: %w", err)
	}
	dst := filepath.Join(runtimeDir, BinaryFile)
	want := []byte(abs + "\n")
	if have, err := os.ReadFile(dst); err == nil && bytes.Equal(have, want) {
		return nil
	}
	tmp, err := os.CreateTemp(runtimeDir, "."+BinaryFile+".tmp-")
	if err != nil {
		return fmt.Errorf("python: record binary: %w", err)
	}
	_, werr := tmp.Write(want)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), dst)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("python: record binary: %w", werr)
	}
	return nil
}
