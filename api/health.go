package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// Spec is the OpenAPI contract of this API, served as written.
//
//go:embed openapi.yaml
var Spec []byte

// healthz says the process is alive; it touches nothing else.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says the database answers and its schema is current.
func (s *Server) readyz(c *gin.Context) {
	ctx := c.Request.Context()
	if err := s.pool.Ping(ctx); err != nil {
		s.writeError(c, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "database unreachable"))
		return
	}
	current, err := s.migrator.Current(ctx)
	if err != nil || !current {
		s.writeError(c, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "database schema is not current"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) serveSpec(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", Spec)
}

func (s *Server) whoami(c *gin.Context) {
	a := orchestrator.ActorFrom(c.Request.Context())
	c.JSON(http.StatusOK, gin.H{"name": a.Name, "role": a.Role, "token_id": a.TokenID})
}
