package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Verification is the outcome of checking a kit against its manifest.
type Verification struct {
	OK        bool      `json:"ok"`
	CreatedAt time.Time `json:"created_at"`
	Checked   int       `json:"checked"`
	Problems  []string  `json:"problems"`
}

// VerifyKit checks every file the manifest of the kit in dir lists: it
// must exist and match its size and SHA-256; files the manifest does not
// list are problems too. Paths in the manifest are opened through os.Root,
// so a doctored manifest cannot make it read outside dir.
func VerifyKit(dir string) (Verification, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Verification{}, fmt.Errorf("open kit: %w", err)
	}
	defer root.Close()
	raw, err := fs.ReadFile(root.FS(), ManifestName)
	if err != nil {
		return Verification{}, fmt.Errorf("read kit manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Format != KitFormat {
		return Verification{}, fmt.Errorf("%s is not a bcdr kit manifest", ManifestName)
	}
	v := Verification{CreatedAt: m.CreatedAt, Problems: []string{}}
	listed := map[string]bool{ManifestName: true}
	for _, e := range m.Files {
		listed[e.Path] = true
		v.Checked++
		if !filepath.IsLocal(e.Path) || strings.Contains(e.Path, `\`) {
			v.Problems = append(v.Problems, fmt.Sprintf("%q: path leaves the kit", e.Path))
			continue
		}
		sum, size, err := hashFile(root, e.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.Problems = append(v.Problems, e.Path+": missing")
		case err != nil:
			v.Problems = append(v.Problems, fmt.Sprintf("%s: %v", e.Path, err))
		case size != e.Bytes || sum != e.SHA256:
			v.Problems = append(v.Problems, e.Path+": content differs from the manifest (modified or corrupted)")
		}
	}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !listed[p] {
			v.Problems = append(v.Problems, p+": not listed in the manifest")
		}
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("walk kit: %w", err)
	}
	slices.Sort(v.Problems)
	v.OK = len(v.Problems) == 0
	return v, nil
}

func hashFile(root *os.Root, name string) (string, int64, error) {
	f, err := root.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
