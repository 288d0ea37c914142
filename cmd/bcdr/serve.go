package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/api"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks/execution"
)

func runServe(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, err := parseConfig(env, fs)
	if err != nil {
		return err
	}
	withDemo := fs.Bool("demo", false, "load (or refresh) the demo organisation before serving")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	tlsConf, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	if cfg.Replica == "" {
		// One name for the replica's scheduler and deliverer alike.
		cfg.Replica = leasequeue.ReplicaName()
	}
	logger := cfg.newLogger(stderr)
	// Every audit row this process writes, in requests, scheduled work and
	// at start, is keyed with the audit key.
	if ctx, err = withAuditKey(ctx, cfg, true, logger); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := bootstrapAdmin(ctx, db, cfg, stdout, logger); err != nil {
		return err
	}
	if *withDemo {
		if err := seedDemo(ctx, db, 1, stdout); err != nil {
			return err
		}
	}
	registry := prometheus.NewRegistry()
	a := newApp(db)
	defer a.services.Reports.Close() // the browser PDFs are printed with
	srv, onShutdown := a.handler(api.Options{Registry: registry, HSTS: tlsConf != nil, TrustedProxies: cfg.trustedProxies()})
	if err := a.graphs.Load(ctx); err != nil {
		return fmt.Errorf("load the CMDB graph: %w", err)
	}
	if err := report.EnsureSchedules(orchestrator.WithActor(ctx, orchestrator.Actor{Name: "bcdr serve", Role: orchestrator.RoleAdmin}), a.services.Schedules); err != nil {
		return err
	}
	parts := []func(context.Context) error{
		func(ctx context.Context) error { return serveHTTP(ctx, cfg, srv, onShutdown, tlsConf, logger) },
		func(ctx context.Context) error { return runScheduler(ctx, cfg, a, registry, logger) },
		func(ctx context.Context) error {
			return notify.NewDeliverer(db.Pool, a.rt, notify.Options{Replica: cfg.Replica, Registry: registry, Secrets: cfg.secrets(),
				OutboundPolicy: cfg.outbound(), Retention: cfg.Retention, SMTP: cfg.smtp(),
				Attachments: a.services.Reports}).Run(ctx)
		},
		a.runRetention,
		func(ctx context.Context) error { return runAuditAnchors(ctx, cfg, db, logger) },
	}
	if cfg.SchedulerWorkers > 0 {
		// The replicas that run scheduled work also perform the automated
		// steps of executions, on the same lease settings.
		parts = append(parts, func(ctx context.Context) error {
			return a.services.Executions.Run(ctx, execution.RunOptions{Replica: cfg.Replica, Workers: cfg.SchedulerWorkers,
				Poll: cfg.SchedulerPoll, Lease: cfg.SchedulerLease, Registry: registry})
		})
	}
	if *withDemo {
		parts = append(parts, func(ctx context.Context) error { return runDemoBackupJob(ctx, db) })
	}
	return runAll(ctx, logger, parts...)
}

// runAll runs each part until ctx ends or one of them fails, then stops
// the others and waits for all of them.
func runAll(ctx context.Context, logger *slog.Logger, parts ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(parts))
	for _, part := range parts {
		go func() {
			err := part(ctx)
			if err != nil {
				logger.Error("stopping after failure", "error", err)
			}
			cancel()
			errc <- err
		}()
	}
	var first error
	for range parts {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// runScheduler claims and runs this replica's share of scheduled work.
func runScheduler(ctx context.Context, cfg *config, a *app, registry *prometheus.Registry, logger *slog.Logger) error {
	db := a.db
	if cfg.SchedulerWorkers == 0 {
		logger.Info("scheduler off on this replica (BCDR_SCHEDULER_WORKERS=0)")
		<-ctx.Done()
		return nil
	}
	s := scheduler.New(db.Pool, a.rt, scheduler.Options{Replica: cfg.Replica, Workers: cfg.SchedulerWorkers,
		PollInterval: cfg.SchedulerPoll, LeaseDuration: cfg.SchedulerLease, Registry: registry, OnEvent: notify.SchedulerHook()})
	a.registerJobs(s)
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run scheduler: %w", err)
	}
	return nil
}

// serveHTTP listens until ctx ends, then lets in-flight requests finish
// within the shutdown timeout. A non-nil tlsConf serves HTTPS only.
func serveHTTP(ctx context.Context, cfg *config, handler http.Handler, onShutdown func(), tlsConf *tls.Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	// Requests outlive ctx by up to the shutdown timeout; those still
	// running (long imports) near its end are cancelled, to roll back and
	// answer in what is left of it.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	hs := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConf,
	}
	hs.RegisterOnShutdown(onShutdown)
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	logger.Info("serving", "address", ln.Addr().String(), "base_url", cfg.BaseURL, "tls", tlsConf != nil)
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	late := time.AfterFunc(cfg.ShutdownTimeout*3/4, cancelRequests)
	defer late.Stop()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// loadTLS reads the certificate and key when TLS is configured, so that a
// missing or mismatched file stops the start, not the first handshake; nil
// means plain HTTP.
func loadTLS(cfg *config) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		return nil, nil
	}
	certPEM, err := os.ReadFile(cfg.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("read BCDR_TLS_CERT: %w", err)
	}
	keyPEM, err := os.ReadFile(cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("read BCDR_TLS_KEY: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load BCDR_TLS_CERT %s with BCDR_TLS_KEY %s: %w", cfg.TLSCert, cfg.TLSKey, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// bootstrapAdmin creates the first admin token on a database without any,
// prints it once and keeps a copy readable only by this user.
func bootstrapAdmin(ctx context.Context, db *database, cfg *config, stdout io.Writer, logger *slog.Logger) error {
	secret, created, err := auth.NewService(db.Pool).BootstrapAdmin(ctx)
	if err != nil || !created {
		return err
	}
	path := filepath.Join(cfg.DataDir, "admin-token")
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	fmt.Fprintf(stdout, "Created the first admin token (shown once; a copy is in %s):\n\n    %s\n\n", path, secret)
	logger.Info("created first admin token", "file", path)
	return nil
}
