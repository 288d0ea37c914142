// Command bcdr is the business continuity and disaster recovery
// orchestrator: the API server and the administrator's command line.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var exit exitError
		if !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "bcdr:", err)
		}
		os.Exit(exitCode(err))
	}
}

// command is one line of the usage: `bcdr NAME FLAGS OPERANDS`, and what
// it does. NAME is also the name of the command's flag set; FLAGS are the
// ones worth showing in the list, required those it cannot do without, and
// OPERANDS the arguments after the flags, one word each.
type command struct {
	name, flags, operands string
	required              []string
	does                  string
}

// commands is every command, in the order the usage lists them.
var commands = []command{
	{"serve", "[--demo]", "", nil, "run the API server (--demo: load the demo organisation first)"},
	{"demo", "[--scale N]", "", nil, "load (or refresh) the demo organisation"},
	{"migrate up", "", "", nil, "apply pending database migrations"},
	{"migrate status", "", "", nil, "list database migrations and whether each is applied"},
	{"token create", "--name N --role R", "", []string{"name", "role"}, "issue an API token (printed once)"},
	{"token list", "", "", nil, "list active tokens"},
	{"token revoke", "", "ID", nil, "revoke a token"},
	{"audit verify", "[--anchor FILE]", "", nil, "check the audit log's hash chain (and against signed anchors)"},
	{"import", "--type T [--partial]", "FILE", []string{"type"}, "import a CSV or JSON-lines file of records"},
	{"execution start", "--runbook ID --mode M [--note N]", "", []string{"runbook", "mode"}, "start a drill or an invocation of a runbook and print its board"},
	{"execution show", "[--json]", "ID", nil, "print the live board of an execution (* marks the critical path)"},
	{"drill list", "[--year Y] [--json]", "", nil, "list drills, their status and results"},
	{"drill start", "[--json]", "ID", nil, "start a planned drill (executions in drill mode, or its timeline)"},
	{"drill complete", "[--json]", "ID", nil, "score a drill in progress: pass, partial or fail, opening findings"},
	{"drill report", "", "ID", nil, "print a drill's after-action report (演练记录) as Markdown"},
	{"finding list", "[--open] [--overdue] [--json]", "", nil, "list the improvement register (服务改进汇总表)"},
	{"dump", "", "FILE", nil, "write the whole state of bcdr to FILE (- for stdout), one consistent snapshot"},
	{"restore", "[--replace]", "FILE", nil, "load a dump (--replace: delete what the database holds first)"},
	{"export kit", "[--json]", "DIR", nil, "write the offline continuity kit (runbooks, contacts, CMDB) into DIR"},
	{"export verify", "[--json]", "DIR", nil, "check a kit against its manifest"},
	{"report executive", "[--period YYYY-MM]" + reportFlags, "", nil, "write the executive recovery status report (PDF needs Chromium)"},
	{"report bia", reportFlags[1:], "", nil, "write the business impact analysis report"},
	{"report risk", reportFlags[1:], "", nil, "write the risk assessment report"},
	{"report after-action", "--drill ID" + reportFlags, "", nil, "write a drill's after-action report"},
	{"report invocation-review", "--execution ID" + reportFlags, "", nil, "write the review of a real invocation"},
	{"report annual-review", "[--period YYYY]" + reportFlags, "", nil, "write the year's plan review and service improvement summary"},
	{"report service", "--service KEY [--period YYYY-MM]" + reportFlags, "", nil, "write a business service's report with its continuity section"},
}

// reportFlags are the flags every report takes.
const reportFlags = " [--format html|pdf|json] [--lang en|zh-CN] [--out FILE]"

// run is the whole program; main only supplies the process's context,
// environment and streams. Whatever the command, -h or --help (or "bcdr
// help COMMAND") prints its usage on stdout and succeeds, and bad usage
// prints the problem and the usage on stderr and exits 2.
func run(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, env, stdout, stderr)
	var help helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.usage)
		return nil
	}
	var bad usageError
	if errors.As(err, &bad) {
		if bad.problem != "" {
			fmt.Fprintf(stderr, "bcdr: %s\n\n", bad.problem)
		}
		fmt.Fprint(stderr, bad.usage)
		return exitError{code: 2}
	}
	return err
}

func dispatch(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage: usageOf("")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, env, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, env, stdout, stderr)
	case "token":
		return runToken(ctx, rest, env, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, env, stdout, stderr)
	case "import":
		return runImport(ctx, rest, env, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, env, stdout, stderr)
	case "export":
		return runExport(ctx, rest, env, stdout, stderr)
	case "execution":
		return runExecution(ctx, rest, env, stdout, stderr)
	case "drill":
		return runDrill(ctx, rest, env, stdout, stderr)
	case "finding":
		return runFinding(ctx, rest, env, stdout, stderr)
	case "dump":
		return runDump(ctx, rest, env, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, env, stdout, stderr)
	case "report":
		return runReport(ctx, rest, env, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if cmd == "help" && len(rest) > 0 {
			// "bcdr help token create" is "bcdr token create --help".
			return dispatch(ctx, append(slices.Clone(rest), "--help"), env, stdout, stderr)
		}
		return helpRequest{usage: usageOf("")}
	}
	return usageError{problem: fmt.Sprintf("unknown command %q", cmd), usage: usageOf("")}
}

// helpRequest is returned by a command asked for its usage; run prints
// the usage on stdout and succeeds.
type helpRequest struct{ usage string }

func (helpRequest) Error() string { return "help requested" }

// usageError is returned by a command used wrongly; run prints the problem
// and the usage on stderr and exits 2.
type usageError struct{ problem, usage string }

func (e usageError) Error() string { return e.problem }

// parseFlags parses a command's flags; the flag set is named for the
// command in commands. -h or --help ends the command with its usage (a
// helpRequest); an unknown flag, a bad value, a missing required flag or
// the wrong number of arguments ends it with a usageError. All of this
// happens before the command touches the database.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return helpRequest{usage: commandUsage(fs)}
	}
	if err != nil {
		return usageError{problem: err.Error(), usage: commandUsage(fs)}
	}
	c, ok := lookup(fs.Name())
	if !ok {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range c.required {
		if !set[name] {
			return usageError{problem: fmt.Sprintf("%s needs --%s", fs.Name(), name), usage: commandUsage(fs)}
		}
	}
	if nargs := len(strings.Fields(c.operands)); fs.NArg() != nargs {
		problem := fmt.Sprintf("%s takes %s after its flags", fs.Name(), plural(nargs, "argument"))
		if fs.NArg() > nargs {
			problem += fmt.Sprintf("; unexpected %q", fs.Arg(nargs))
		}
		return usageError{problem: problem, usage: commandUsage(fs)}
	}
	return nil
}

// subcommand picks the subcommand of a command group such as "token":
// -h or --help asks for the group's usage, and a missing or unknown
// subcommand is bad usage.
func subcommand(group string, args []string) (string, error) {
	if len(args) == 0 {
		return "", usageError{problem: fmt.Sprintf("%s needs a command", group), usage: usageOf(group)}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return "", helpRequest{usage: usageOf(group)}
	}
	if _, ok := lookup(group + " " + args[0]); !ok {
		return "", usageError{problem: fmt.Sprintf("unknown %s command %q", group, args[0]), usage: usageOf(group)}
	}
	return args[0], nil
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commands[i], true
}

// usageOf lists the commands whose name starts with prefix: all of them,
// with what they share, for "", or a group such as "token".
func usageOf(prefix string) string {
	var b strings.Builder
	if prefix == "" {
		b.WriteString("bcdr — business continuity and disaster recovery orchestrator\n\n")
	}
	b.WriteString("Usage:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	for _, c := range commands {
		if prefix == "" || c.name == prefix || strings.HasPrefix(c.name, prefix+" ") {
			fmt.Fprintf(tw, "  %s\t%s\n", synopsis(c.name, c.flags, c.operands), c.does)
		}
	}
	tw.Flush()
	if prefix == "" {
		b.WriteString("\nEvery command takes --data-dir and reads DATABASE_URL; run \"bcdr COMMAND -h\"\n" +
			"for its flags. Configuration is described in the README.\n")
	} else {
		fmt.Fprintf(&b, "\nRun \"bcdr %s COMMAND -h\" for its flags.\n", prefix)
	}
	return b.String()
}

// commandUsage is one command's synopsis, what it does and its flags.
func commandUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	c, _ := lookup(fs.Name())
	fmt.Fprintf(&b, "Usage: %s\n", synopsis(fs.Name(), strings.TrimSpace(c.flags+" [flags]"), c.operands))
	does := c.does
	if does != "" {
		fmt.Fprintf(&b, "\n%s.\n", strings.ToUpper(does[:1])+does[1:])
	}
	var flags bytes.Buffer
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(&b, "\nFlags:\n%s", flags.String())
	}
	return b.String()
}

// synopsis joins the words of a usage line, skipping empty ones.
func synopsis(name, flags, operands string) string {
	return strings.Join(strings.Fields("bcdr "+name+" "+flags+" "+operands), " ")
}

// plural counts things in words: "1 problem", "2 problems".
func plural[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// exitError ends the program with a code after its message was printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	return 1
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
