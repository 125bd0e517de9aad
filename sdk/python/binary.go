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
	if err := WriteFileAtomic(dst, want); err != nil {
		return fmt.Errorf("python: record binary: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path (mode 0644) through a temporary file
// in the same folder and a rename: readers see the old or the new content.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
