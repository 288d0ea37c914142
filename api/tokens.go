package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
)

type createTokenRequest struct {
	Name string            `json:"name"`
	Role orchestrator.Role `json:"role"`
}

type createTokenResponse struct {
	auth.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		s.writeError(c, err)
		return
	}
	tok, secret, err := s.svc.Tokens.Create(c.Request.Context(), req.Name, req.Role)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, createTokenResponse{Token: tok, Secret: secret})
}

func (s *Server) listTokens(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	includeRevoked, err := boolQuery(c, "include_revoked")
	if err != nil {
		s.writeError(c, err)
		return
	}
	list, err := s.svc.Tokens.List(c.Request.Context(), includeRevoked, page)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

func (s *Server) revokeToken(c *gin.Context) {
	id, err := recordID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.svc.Tokens.Revoke(c.Request.Context(), id); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(c *gin.Context, name string) (bool, error) {
	s := c.Query(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid " + name,
			Fields: []orchestrator.FieldError{{Field: name, Message: "must be true or false"}}}
	}
	return b, nil
}
