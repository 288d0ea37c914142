package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
)

// The drill programme: policy, the yearly calendar and its approval,
// coverage, and the calendar feed. Records readers read the policy and the
// programme; coverage is also a report executives read; admins and
// continuity managers change them. The feed is opened by its own token.
func (s *Server) drillProgrammeRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/drills/policy", Roles: recordReads, handler: s.drillPolicy},
		{Method: "PUT", Path: "/drills/policy", Roles: recordWrites, handler: s.setDrillPolicy},
		{Method: "GET", Path: "/drills/programme", Roles: recordReads, handler: s.programme(func(c *gin.Context, year int) (any, error) {
			return s.svc.Drills.Programme(c.Request.Context(), year)
		})},
		{Method: "POST", Path: "/drills/programme", Roles: recordWrites, Timeout: programmeTimeout, handler: s.proposeProgramme},
		{Method: "PUT", Path: "/drills/programme", Roles: recordWrites, BodyLimit: 8 << 20, handler: s.editProgramme},
		{Method: "POST", Path: "/drills/programme/approve", Roles: recordWrites, Timeout: programmeTimeout, handler: s.programme(func(c *gin.Context, year int) (any, error) {
			return s.svc.Drills.ApproveProgramme(c.Request.Context(), year)
		})},
		{Method: "GET", Path: "/drills/coverage", Roles: reportReads, handler: s.programme(func(c *gin.Context, year int) (any, error) {
			return s.svc.Drills.Coverage(c.Request.Context(), year)
		})},
		{Method: "GET", Path: "/drills/calendar/feeds", Roles: recordReads, handler: s.listFeeds},
		{Method: "POST", Path: "/drills/calendar/feeds", Roles: recordWrites, handler: s.createFeed},
		{Method: "DELETE", Path: "/drills/calendar/feeds/:id", Roles: recordWrites, handler: s.revokeFeed},
		{Method: "GET", Path: "/drills/calendar.ics", SelfAuth: true, handler: s.calendarFeed},
	}
}

// programmeTimeout bounds proposing and approving a programme, which read
// every approved runbook.
const programmeTimeout = 5 * time.Minute

// yearParam reads the required ?year=.
func yearParam(c *gin.Context) (int, error) {
	y, err := strconv.Atoi(c.Query("year"))
	if err != nil || y < 2000 || y > 2200 {
		return 0, orchestrator.Invalid("year", "is required: a year such as 2027")
	}
	return y, nil
}

// programme answers an operation on the programme of ?year=.
func (s *Server) programme(fn func(c *gin.Context, year int) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		year, err := yearParam(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		respond[any](s, c, http.StatusOK)(fn(c, year))
	}
}

// policyBody is the drill policy as the API carries it.
type policyBody struct {
	Tiers []drills.Policy `json:"tiers"`
}

func (s *Server) drillPolicy(c *gin.Context) {
	ps, err := s.svc.Drills.Policies(c.Request.Context())
	respond[policyBody](s, c, http.StatusOK)(policyBody{Tiers: ps}, err)
}

func (s *Server) setDrillPolicy(c *gin.Context) {
	var in struct {
		Tiers []drills.PolicyInput `json:"tiers"`
	}
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	ps, err := s.svc.Drills.SetPolicies(c.Request.Context(), in.Tiers)
	respond[policyBody](s, c, http.StatusOK)(policyBody{Tiers: ps}, err)
}

func (s *Server) proposeProgramme(c *gin.Context) {
	year, err := yearParam(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var in drills.SettingsInput
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
	}
	respond[drills.Programme](s, c, http.StatusOK)(s.svc.Drills.ProposeProgramme(c.Request.Context(), year, in))
}

func (s *Server) editProgramme(c *gin.Context) {
	year, err := yearParam(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var in struct {
		Entries []drills.Entry `json:"entries"`
	}
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	if in.Entries == nil {
		s.writeError(c, orchestrator.Invalid("entries", "is required (an empty list removes every entry)"))
		return
	}
	respond[drills.Programme](s, c, http.StatusOK)(s.svc.Drills.ReplaceEntries(c.Request.Context(), year, in.Entries))
}

// feedBody is a created feed: its token and URL, shown this once.
type feedBody struct {
	drills.Feed
	Token string `json:"token"`
	URL   string `json:"url"`
}

func (s *Server) createFeed(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
	}
	f, token, err := s.svc.Drills.CreateFeed(c.Request.Context(), in.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	url := strings.TrimSuffix(s.baseURL, "/") + apiPrefix + "/drills/calendar.ics?token=" + token
	c.JSON(http.StatusCreated, feedBody{Feed: f, Token: token, URL: url})
}

func (s *Server) listFeeds(c *gin.Context) {
	feeds, err := s.svc.Drills.Feeds(c.Request.Context())
	respond[gin.H](s, c, http.StatusOK)(gin.H{"items": feeds}, err)
}

func (s *Server) revokeFeed(c *gin.Context) {
	id, err := recordID(c.Param("id"))
	if err == nil {
		err = s.svc.Drills.RevokeFeed(c.Request.Context(), id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// calendarFeed serves the iCalendar feed to whoever holds a feed token:
// calendar clients send no Authorization header. A wrong token counts
// against the client's authentication budget like a wrong bearer token,
// and is answered 401 without saying more. The request log records the
// route, never the query string that carries the token.
func (s *Server) calendarFeed(c *gin.Context) {
	host, ok := s.unthrottled(c)
	if !ok {
		return
	}
	token := c.Query("token")
	body, err := s.svc.Drills.Calendar(c.Request.Context(), token)
	if orchestrator.ErrorCode(err) == orchestrator.EUNAUTHORIZED {
		s.authFailed(c, host, token, err)
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", body)
}
