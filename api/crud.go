package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// resource binds a record service to the five REST operations, so every
// record type answers the same way: GET list (filters + cursor pagination),
// GET one, POST create (201), PUT replace, DELETE (204). In is the input
// document a client sends; T is the record returned. Nil functions leave the
// operation out.
type resource[T, In any] struct {
	list   func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[T], error)
	get    func(ctx context.Context, id string) (T, error)
	create func(ctx context.Context, in In) (T, error)
	update func(ctx context.Context, id string, in In) (T, error)
	delete func(ctx context.Context, id string) error
}

// routes returns the route-table rows for the resource at path ("/cis"),
// addressed by the path parameter param ("key" or "id").
func (r resource[T, In]) routes(s *Server, path, param string, read, write []orchestrator.Role) []Route {
	one := path + "/:" + param
	var rs []Route
	if r.list != nil {
		rs = append(rs, Route{Method: "GET", Path: path, Roles: read, handler: func(c *gin.Context) {
			page, err := pageFrom(c)
			if err != nil {
				s.writeError(c, err)
				return
			}
			q := c.Request.URL.Query()
			q.Del("limit")
			q.Del("after")
			respond[orchestrator.List[T]](s, c, http.StatusOK)(r.list(c.Request.Context(), q, page))
		}})
	}
	if r.get != nil {
		rs = append(rs, Route{Method: "GET", Path: one, Roles: read, handler: func(c *gin.Context) {
			respond[T](s, c, http.StatusOK)(r.get(c.Request.Context(), c.Param(param)))
		}})
	}
	if r.create != nil {
		rs = append(rs, Route{Method: "POST", Path: path, Roles: write, handler: func(c *gin.Context) {
			var in In
			if err := decodeJSON(c, &in); err != nil {
				s.writeError(c, err)
				return
			}
			respond[T](s, c, http.StatusCreated)(r.create(c.Request.Context(), in))
		}})
	}
	if r.update != nil {
		rs = append(rs, Route{Method: "PUT", Path: one, Roles: write, handler: func(c *gin.Context) {
			var in In
			if err := decodeJSON(c, &in); err != nil {
				s.writeError(c, err)
				return
			}
			respond[T](s, c, http.StatusOK)(r.update(c.Request.Context(), c.Param(param), in))
		}})
	}
	if r.delete != nil {
		rs = append(rs, Route{Method: "DELETE", Path: one, Roles: write, handler: func(c *gin.Context) {
			if err := r.delete(c.Request.Context(), c.Param(param)); err != nil {
				s.writeError(c, err)
				return
			}
			c.Status(http.StatusNoContent)
		}})
	}
	return rs
}

// respond writes v as JSON with status, or the error.
func respond[T any](s *Server, c *gin.Context, status int) func(v T, err error) {
	return func(v T, err error) {
		if err != nil {
			s.writeError(c, err)
			return
		}
		c.JSON(status, v)
	}
}
