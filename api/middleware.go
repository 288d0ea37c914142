package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

const requestIDKey = "request_id"

var (
	errNoRoute   = orchestrator.Errorf(orchestrator.ENOTFOUND, "no such route")
	errNoMethod  = orchestrator.Errorf(orchestrator.ENOTFOUND, "method not allowed on this route")
	errNoToken   = orchestrator.Errorf(orchestrator.EUNAUTHORIZED, "a bearer token is required (Authorization: Bearer <token>)")
	errForbidden = orchestrator.Errorf(orchestrator.EFORBIDDEN, "your role may not do this")
)

// requestID takes a caller's X-Request-ID when it is short and plain, or
// makes one, and echoes it in the response.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if len(id) == 0 || len(id) > 64 || strings.IndexFunc(id, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// observe writes one log line and the metrics of every request.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.observe(c.Request.Method, route, status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method), slog.String("route", route), slog.Int("status", status),
		slog.Duration("duration", elapsed), slog.String("request_id", requestID(c)),
	}
	if a, ok := orchestrator.LookupActor(c.Request.Context()); ok {
		attrs = append(attrs, slog.String("actor", a.Name))
	}
	s.logger.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// recoverPanic turns a handler panic into a logged internal error.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// limit applies the route's body size limit and deadline.
func (s *Server) limit(rt Route) gin.HandlerFunc {
	bodyLimit, timeout := rt.BodyLimit, rt.Timeout
	if bodyLimit == 0 {
		bodyLimit = defaultBodyLimit
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return func(c *gin.Context) {
		if bodyLimit > 0 {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bodyLimit)
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// authenticate resolves the bearer token to an actor and puts it in the
// request context, where services find it for the audit log.
func (s *Server) authenticate(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || token == "" {
		s.writeError(c, errNoToken)
		return
	}
	actor, err := s.svc.Tokens.Authenticate(c.Request.Context(), strings.TrimSpace(token))
	if err != nil {
		s.writeError(c, err)
		return
	}
	actor.RequestID = requestID(c)
	c.Request = c.Request.WithContext(orchestrator.WithActor(c.Request.Context(), actor))
	c.Next()
}

// authorize admits only the roles the route table lists.
func (s *Server) authorize(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(rt.Roles, orchestrator.ActorFrom(c.Request.Context()).Role) {
			s.writeError(c, errForbidden)
			return
		}
		c.Next()
	}
}
