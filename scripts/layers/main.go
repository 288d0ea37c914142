// Command layers checks that imports point one way, down the layers of
// docs/architecture.md:
//
//	cmd, scripts → api, web → demo → report → drills → runbooks →
//	orchestrator/<capability> → orchestrator (domain root) → stdlib
//
// A package may import packages of its own layer or below, never above; the
// domain root imports the standard library only. Test files are not checked:
// a test may seed through a higher layer (the demo) to get realistic data.
// It prints every import that runs upward and exits 1 when there is one.
//
//	go run ./scripts/layers
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/bcdr/bcdr"

// layers, top first: a package belongs to the first whose prefix it has.
var layers = []struct {
	name     string
	prefixes []string
}{
	{"command line and tools", []string{"cmd", "scripts"}},
	{"API and web UI", []string{"api", "web"}},
	{"demo organisation", []string{"demo"}},
	{"reports", []string{"report"}},
	{"drills", []string{"drills"}},
	{"runbooks", []string{"runbooks"}},
	{"capabilities", []string{"orchestrator/"}},
	{"domain root", []string{"orchestrator"}},
	{"migrations", []string{"migrations"}},
}

// layerOf is the index of path's layer (0 = top), -1 outside the module.
func layerOf(path string) int {
	if path != module && !strings.HasPrefix(path, module+"/") {
		return -1
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	for i, l := range layers {
		for _, p := range l.prefixes {
			if strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) {
				return i
			}
			if rel == p || strings.HasPrefix(rel, p+"/") {
				return i
			}
		}
	}
	return 0 // a new top-level directory: nothing may import it until it is placed
}

func main() {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "layers: go list:", err)
		os.Exit(2)
	}
	bad := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg, imports := fields[0], fields[1:]
		from := layerOf(pkg)
		for _, imp := range imports {
			to := layerOf(imp)
			switch {
			case pkg == module+"/orchestrator" && strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				fmt.Printf("%s imports %s: the domain root imports the standard library only\n", rel(pkg), imp)
				bad++
			case to >= 0 && to < from:
				fmt.Printf("%s (%s) imports %s (%s): imports point down the layers only\n",
					rel(pkg), layers[from].name, rel(imp), layers[to].name)
				bad++
			}
		}
	}
	if bad > 0 {
		fmt.Printf("%d import(s) run upward; see docs/architecture.md\n", bad)
		os.Exit(1)
	}
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }
