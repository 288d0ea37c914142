package api

import (
	"context"
	"net/url"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// directoryRoutes serves contacts, call trees, suppliers and SLAs.
func (s *Server) directoryRoutes() []Route {
	d := s.svc.Directory
	contacts := resource[directory.Contact, directory.ContactInput]{
		list: func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[directory.Contact], error) {
			fq := newQuery(q)
			f := directory.ContactFilter{Query: fq.str("q"), Role: fq.str("role"), Organisation: fq.str("organisation")}
			if err := fq.err(); err != nil {
				return orchestrator.List[directory.Contact]{}, err
			}
			return d.ListContacts(ctx, f, page)
		},
		get: d.GetContact, create: d.CreateContact, update: d.ReplaceContact, delete: d.DeleteContact,
	}
	callTrees := resource[directory.CallTree, directory.CallTreeInput]{
		list: func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[directory.CallTree], error) {
			fq := newQuery(q)
			f := directory.CallTreeFilter{Service: fq.str("service")}
			if err := fq.err(); err != nil {
				return orchestrator.List[directory.CallTree]{}, err
			}
			return d.ListCallTrees(ctx, f, page)
		},
		get: d.GetCallTree, create: d.CreateCallTree, update: d.ReplaceCallTree, delete: d.DeleteCallTree,
	}
	suppliers := resource[directory.Supplier, directory.SupplierInput]{
		list: func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[directory.Supplier], error) {
			fq := newQuery(q)
			f := directory.SupplierFilter{Query: fq.str("q"), Service: fq.str("service"), Expiring: fq.boolean("expiring")}
			if err := fq.err(); err != nil {
				return orchestrator.List[directory.Supplier]{}, err
			}
			return d.ListSuppliers(ctx, f, page)
		},
		get: d.GetSupplier, create: d.CreateSupplier, update: d.ReplaceSupplier, delete: d.DeleteSupplier,
	}
	slas := resource[directory.SLA, directory.SLAInput]{
		list: func(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[directory.SLA], error) {
			fq := newQuery(q)
			f := directory.SLAFilter{Service: fq.str("service"), Period: fq.oneOf("period", directory.Periods...)}
			if err := fq.err(); err != nil {
				return orchestrator.List[directory.SLA]{}, err
			}
			return d.ListSLAs(ctx, f, page)
		},
		get: getByID(d.GetSLA), create: d.CreateSLA, update: updateByID(d.ReplaceSLA), delete: deleteByID(d.DeleteSLA),
	}
	var rs []Route
	rs = append(rs, contacts.routes(s, "/contacts", "key", recordReads, recordWrites)...)
	rs = append(rs, callTrees.routes(s, "/call-trees", "key", recordReads, recordWrites)...)
	rs = append(rs, suppliers.routes(s, "/suppliers", "key", recordReads, recordWrites)...)
	rs = append(rs, slas.routes(s, "/slas", "id", recordReads, recordWrites)...)
	return rs
}
