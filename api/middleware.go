package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
)

const requestIDKey = "request_id"

var (
	errNoRoute   = orchestrator.Errorf(orchestrator.ENOTFOUND, "no such route")
	errNoMethod  = orchestrator.Errorf(orchestrator.ENOTFOUND, "method not allowed on this route")
	errNoToken   = orchestrator.Errorf(orchestrator.EUNAUTHORIZED, "a bearer token is required (Authorization: Bearer <token>)")
	errForbidden = orchestrator.Errorf(orchestrator.EFORBIDDEN, "your role may not do this")
	errThrottled = orchestrator.Errorf(orchestrator.ERATELIMITED, "too many failed authentications from this address; retry after the time in Retry-After")
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
		slog.Duration("duration", elapsed), slog.String("request_id", requestID(c)), slog.String("client", c.ClientIP()),
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

// unthrottled returns the client's address, or answers 429 with
// Retry-After and returns false when that address has failed to
// authenticate too often.
func (s *Server) unthrottled(c *gin.Context) (string, bool) {
	host := c.ClientIP()
	if host == "" {
		host = peerHost(c.Request.RemoteAddr)
	}
	if wait := s.authThrottle.Wait(auth.ThrottleKey(host), s.rt.Now()); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.writeError(c, errThrottled)
		return "", false
	}
	return host, true
}

// authenticate resolves the bearer token to an actor and puts it in the
// request context, where services find it for the audit log. A client
// address that has failed too often is refused before its token is looked
// at, whether or not the token is right. The client is the peer, or the
// address a trusted proxy forwarded for (Options.TrustedProxies).
func (s *Server) authenticate(c *gin.Context) {
	host, ok := s.unthrottled(c)
	if !ok {
		return
	}
	// A request without a token guesses nothing: it is refused but neither
	// counted nor logged as a failure.
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		s.writeError(c, errNoToken)
		return
	}
	actor, err := s.svc.Tokens.Authenticate(c.Request.Context(), token)
	if orchestrator.ErrorCode(err) == orchestrator.EUNAUTHORIZED {
		s.authFailed(c, host, token, err)
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	actor.RequestID = requestID(c)
	c.Request = c.Request.WithContext(orchestrator.WithActor(c.Request.Context(), actor))
	c.Next()
}

// authFailed logs a failed authentication with what may be logged of the
// token, charges it to the client's budget and answers err.
func (s *Server) authFailed(c *gin.Context, host, token string, err error) {
	ctx := c.Request.Context()
	attrs := []slog.Attr{slog.String("client", host), slog.String("route", c.FullPath()), slog.String("request_id", requestID(c))}
	if prefix, ok := tokenPrefix(token); ok {
		attrs = append(attrs, slog.String("token_prefix", prefix))
	} else {
		attrs = append(attrs, slog.Int("token_length", len(token)))
	}
	s.logger.LogAttrs(ctx, slog.LevelWarn, "authentication failed", attrs...)
	if s.authThrottle.Fail(auth.ThrottleKey(host), s.rt.Now()) {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "throttling client after repeated authentication failures",
			slog.String("client", auth.ThrottleKey(host)))
	}
	s.writeError(c, err)
}

// tokenPrefix is the "bcdr_<prefix>_" head of a string shaped like a token
// (orchestrator/auth: scheme, 8-character lookup prefix, "_", 40-character
// secret): the part that names a token without revealing it, safe to log.
func tokenPrefix(token string) (string, bool) {
	const scheme, prefixLen, secretLen = "bcdr_", 8, 40
	end := len(scheme) + prefixLen
	if len(token) != end+1+secretLen || !strings.HasPrefix(token, scheme) || token[end] != '_' ||
		strings.ContainsFunc(token[len(scheme):end], func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
		return "", false
	}
	return token[:end+1], true
}

// strictTransport tells browsers to use only HTTPS for a year; set when
// the server is on TLS.
func (s *Server) strictTransport(c *gin.Context) {
	c.Header("Strict-Transport-Security", "max-age=31536000")
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
