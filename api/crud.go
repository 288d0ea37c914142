package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// resource binds a record service to the REST operations, so every record
// type answers the same way: GET list (filters + cursor pagination), GET
// one, POST create (201), PUT replace, PATCH change the fields named,
// DELETE (204). In is the input document a client sends; T is the record
// returned. Nil functions leave the operation out.
type resource[T, In any] struct {
	list   func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[T], error)
	get    func(ctx context.Context, id string) (T, error)
	create func(ctx context.Context, in In) (T, error)
	update func(ctx context.Context, id string, in In) (T, error)
	patch  func(ctx context.Context, id string, in In) (T, error)
	delete func(ctx context.Context, id string) error
}

// routes returns the route-table rows for the resource at path ("/cis"),
// addressed by the path parameter param ("key" or "id").
func (r resource[T, In]) routes(s *Server, path, param string, read, write []orchestrator.Role) []Route {
	one := path + "/:" + param
	var rs []Route
	if r.list != nil {
		rs = append(rs, Route{Method: "GET", Path: path, Roles: read, handler: func(c *gin.Context) {
			q, page, err := listParams(c)
			if err != nil {
				s.writeError(c, err)
				return
			}
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
		rs = append(rs, Route{Method: "PUT", Path: one, Roles: write, handler: r.change(s, param, r.update)})
	}
	if r.patch != nil {
		rs = append(rs, Route{Method: "PATCH", Path: one, Roles: write, handler: r.change(s, param, r.patch)})
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

// change serves a PUT or PATCH: it decodes the body and answers with the
// record as changed.
func (r resource[T, In]) change(s *Server, param string, change func(context.Context, string, In) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
		respond[T](s, c, http.StatusOK)(change(c.Request.Context(), c.Param(param), in))
	}
}

// listParams reads a list request: its page and the query parameters left
// for the filters.
func listParams(c *gin.Context) (url.Values, orchestrator.Page, error) {
	page, err := pageFrom(c)
	if err != nil {
		return nil, page, err
	}
	q := c.Request.URL.Query()
	q.Del("limit")
	q.Del("after")
	return q, page, nil
}

// recordID reads the numeric id of a record from the path.
func recordID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid id",
			Fields: []orchestrator.FieldError{{Field: "id", Message: "must be a positive whole number"}}}
	}
	return id, nil
}

// getByID adapts a get-by-numeric-id method to resource.get.
func getByID[T any](get func(context.Context, int64) (T, error)) func(context.Context, string) (T, error) {
	return func(ctx context.Context, s string) (T, error) {
		id, err := recordID(s)
		if err != nil {
			var zero T
			return zero, err
		}
		return get(ctx, id)
	}
}

// updateByID adapts an update-by-numeric-id method to resource.update or
// resource.patch.
func updateByID[T, In any](update func(context.Context, int64, In) (T, error)) func(context.Context, string, In) (T, error) {
	return func(ctx context.Context, s string, in In) (T, error) {
		id, err := recordID(s)
		if err != nil {
			var zero T
			return zero, err
		}
		return update(ctx, id, in)
	}
}

// deleteByID adapts a delete-by-numeric-id method to resource.delete.
func deleteByID(del func(context.Context, int64) error) func(context.Context, string) error {
	return func(ctx context.Context, s string) error {
		id, err := recordID(s)
		if err != nil {
			return err
		}
		return del(ctx, id)
	}
}

// listUnder serves a list nested under the record addressed by :id (a
// target's checks, a schedule's runs): list gets the record's id, the query
// parameters left for the filters and the page.
func listUnder[T any](s *Server, list func(ctx context.Context, id int64, q url.Values, page orchestrator.Page) (orchestrator.List[T], error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := recordID(c.Param("id"))
		if err != nil {
			s.writeError(c, err)
			return
		}
		q, page, err := listParams(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		respond[orchestrator.List[T]](s, c, http.StatusOK)(list(c.Request.Context(), id, q, page))
	}
}

// actOn serves a POST that acts on the record addressed by :id, answering
// status with what act returns.
func actOn[T any](s *Server, status int, act func(context.Context, int64) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := recordID(c.Param("id"))
		if err != nil {
			s.writeError(c, err)
			return
		}
		respond[T](s, c, status)(act(c.Request.Context(), id))
	}
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
