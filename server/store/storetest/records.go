package storetest

import (
	"testing"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func testFlows(t *testing.T, s store.Store) {
	f1 := &orionv1.Flow{Id: "f1", Name: "etl", Tags: []string{"a"}, CreateTime: ts(0)}
	f2 := &orionv1.Flow{Id: "f2", Name: "report"}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutFlow(f1))
		must(t, tx.PutFlow(f2))
		wantErr(t, tx.PutFlow(&orionv1.Flow{Id: "f3", Name: "etl"}), store.ErrAlreadyExists)
		wantErr(t, tx.PutFlow(&orionv1.Flow{Name: "noid"}), store.ErrInvalid)
		wantErr(t, tx.PutFlow(&orionv1.Flow{Id: "f4"}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Flow("f1")
		must(t, err)
		wantEqual(t, got, f1)
		got, err = tx.FlowByName("report")
		must(t, err)
		wantEqual(t, got, f2)
		_, err = tx.Flow("f3")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.FlowByName("missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	// Renaming frees the old name for another flow.
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutFlow(&orionv1.Flow{Id: "f1", Name: "etl-v2"}))
		must(t, tx.PutFlow(&orionv1.Flow{Id: "f3", Name: "etl"}))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for name, id := range map[string]string{"etl": "f3", "etl-v2": "f1", "report": "f2"} {
			got, err := tx.FlowByName(name)
			must(t, err)
			if got.GetId() != id {
				t.Errorf("FlowByName(%q) = %s, want %s", name, got.GetId(), id)
			}
		}
		return nil
	})
}

func testListFlows(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, f := range []*orionv1.Flow{{Id: "3", Name: "c"}, {Id: "1", Name: "a"}, {Id: "4", Name: "d"}, {Id: "2", Name: "b"}} {
			must(t, tx.PutFlow(f))
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		all, err := tx.ListFlows("", 0)
		must(t, err)
		wantIDs(t, all, "1", "2", "3", "4")
		page, err := tx.ListFlows("a", 2)
		must(t, err)
		wantIDs(t, page, "2", "3")
		page, err = tx.ListFlows("bb", 0) // not a stored name
		must(t, err)
		wantIDs(t, page, "3", "4")
		page, err = tx.ListFlows("d", 5)
		must(t, err)
		wantIDs(t, page)
		return nil
	})
}

func testFlowSources(t *testing.T, s store.Store) {
	src := &store.FlowSource{Digest: "sha256:abc", FileName: "flow.py", Text: "print('hi')\n"}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutFlowSource(src))
		must(t, tx.PutFlowSource(&store.FlowSource{Digest: src.Digest, FileName: src.FileName, Text: src.Text}))
		wantErr(t, tx.PutFlowSource(&store.FlowSource{Text: "x"}), store.ErrInvalid)
		return nil
	})
	// Putting it again in a later transaction is still a no-op.
	update(t, s, func(tx store.Tx) error { return tx.PutFlowSource(src) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FlowSource(src.Digest)
		must(t, err)
		if *got != *src {
			t.Errorf("FlowSource = %+v, want %+v", got, src)
		}
		_, err = tx.FlowSource("sha256:missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testDeployments(t *testing.T, s store.Store) {
	d1 := &orionv1.Deployment{Id: "d1", Name: "daily", FlowId: "f1", FlowName: "etl", Tags: []string{"prod"}, WorkQueueName: "default"}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutDeployment(d1))
		// The same name under another flow is a different deployment.
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d2", Name: "daily", FlowId: "f2", FlowName: "report"}))
		wantErr(t, tx.PutDeployment(&orionv1.Deployment{Id: "d3", Name: "daily", FlowName: "etl"}), store.ErrAlreadyExists)
		wantErr(t, tx.PutDeployment(&orionv1.Deployment{Name: "x", FlowName: "etl"}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Deployment("d1")
		must(t, err)
		wantEqual(t, got, d1)
		got, err = tx.DeploymentByName("report", "daily")
		must(t, err)
		if got.GetId() != "d2" {
			t.Errorf("DeploymentByName(report, daily) = %s, want d2", got.GetId())
		}
		_, err = tx.Deployment("d3")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.DeploymentByName("etl", "hourly")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	// Rename d1; its old name is free, then delete it.
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d1", Name: "hourly", FlowId: "f1", FlowName: "etl"}))
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d3", Name: "daily", FlowId: "f1", FlowName: "etl"}))
		must(t, tx.DeleteDeployment("d1"))
		wantErr(t, tx.DeleteDeployment("d1"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Deployment("d1")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.DeploymentByName("etl", "hourly")
		wantErr(t, err, store.ErrNotFound)
		got, err := tx.DeploymentByName("etl", "daily")
		must(t, err)
		if got.GetId() != "d3" {
			t.Errorf("DeploymentByName(etl, daily) = %s, want d3", got.GetId())
		}
		return nil
	})
	// The deleted name can be taken again.
	update(t, s, func(tx store.Tx) error {
		return tx.PutDeployment(&orionv1.Deployment{Id: "d4", Name: "hourly", FlowName: "etl"})
	})
}

func testListDeployments(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, d := range []*orionv1.Deployment{
			{Id: "5", FlowName: "b", Name: "x", Tags: []string{"prod"}},
			{Id: "1", FlowName: "a", Name: "x", Tags: []string{"prod", "eu"}},
			{Id: "3", FlowName: "ab", Name: "a"},
			{Id: "2", FlowName: "a", Name: "y", Tags: []string{"eu"}},
			{Id: "4", FlowName: "ab", Name: "b", Tags: []string{"eu", "prod"}},
		} {
			must(t, tx.PutDeployment(d))
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			name string
			f    store.DeploymentFilter
			want []string
		}{
			{"all", store.DeploymentFilter{}, []string{"1", "2", "3", "4", "5"}},
			{"flow a is not a prefix of ab", store.DeploymentFilter{FlowName: "a"}, []string{"1", "2"}},
			{"flow ab", store.DeploymentFilter{FlowName: "ab"}, []string{"3", "4"}},
			{"unknown flow", store.DeploymentFilter{FlowName: "zz"}, nil},
			{"tag", store.DeploymentFilter{Tags: []string{"prod"}}, []string{"1", "4", "5"}},
			{"all tags", store.DeploymentFilter{Tags: []string{"prod", "eu"}}, []string{"1", "4"}},
			{"limit", store.DeploymentFilter{Limit: 2}, []string{"1", "2"}},
			{"after", store.DeploymentFilter{After: store.DeploymentCursor(&orionv1.Deployment{FlowName: "a", Name: "y"})}, []string{"3", "4", "5"}},
			{"after within flow", store.DeploymentFilter{FlowName: "ab", After: "ab\x00a"}, []string{"4"}},
			{"after before flow", store.DeploymentFilter{FlowName: "ab", After: "a\x00x"}, []string{"3", "4"}},
			{"after past flow", store.DeploymentFilter{FlowName: "a", After: "ab\x00a"}, nil},
			{"tags and limit", store.DeploymentFilter{Tags: []string{"eu"}, Limit: 2}, []string{"1", "2"}},
		} {
			got, err := tx.ListDeployments(tc.f)
			must(t, err)
			t.Run(tc.name, func(t *testing.T) { wantIDs(t, got, tc.want...) })
		}

		// Paging with the cursor visits every deployment once, in order.
		var ids []string
		f := store.DeploymentFilter{Limit: 2}
		for range 10 {
			page, err := tx.ListDeployments(f)
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, d := range page {
				ids = append(ids, d.GetId())
			}
			f.After = store.DeploymentCursor(page[len(page)-1])
		}
		wantStrings(t, ids, "1", "2", "3", "4", "5")
		return nil
	})
}

func testWorkQueues(t *testing.T, s store.Store) {
	q := &orionv1.WorkQueue{Id: "q1", Name: "default", Description: "d", Tags: []string{"a"}}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutWorkQueue(q))
		must(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q2", Name: "batch"}))
		wantErr(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q3", Name: "default"}), store.ErrAlreadyExists)
		wantErr(t, tx.PutWorkQueue(&orionv1.WorkQueue{Name: "noid"}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WorkQueue("q1")
		must(t, err)
		wantEqual(t, got, q)
		got, err = tx.WorkQueueByName("default")
		must(t, err)
		wantEqual(t, got, q)
		_, err = tx.WorkQueue("q3")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.WorkQueueByName("nope")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListWorkQueues()
		must(t, err)
		wantIDs(t, all, "q2", "q1") // by name: batch, default
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q1", Name: "renamed"}))
		must(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q3", Name: "default"}))
		must(t, tx.DeleteWorkQueue("q2"))
		wantErr(t, tx.DeleteWorkQueue("q2"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.WorkQueueByName("batch")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListWorkQueues()
		must(t, err)
		wantIDs(t, all, "q3", "q1") // default, renamed
		return nil
	})
}

func testAgents(t *testing.T, s store.Store) {
	a := &orionv1.Agent{Id: "a1", Name: "host-1", WorkQueues: []string{"default"}, Connected: true, RegisterTime: ts(0)}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutAgent(a))
		must(t, tx.PutAgent(&orionv1.Agent{Id: "a2", Name: "host-2"}))
		wantErr(t, tx.PutAgent(&orionv1.Agent{Name: "noid"}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Agent("a1")
		must(t, err)
		wantEqual(t, got, a)
		_, err = tx.Agent("a3")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListAgents()
		must(t, err)
		wantIDs(t, all, "a1", "a2")
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		must(t, tx.DeleteAgent("a1"))
		wantErr(t, tx.DeleteAgent("a1"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Agent("a1")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListAgents()
		must(t, err)
		wantIDs(t, all, "a2")
		return nil
	})
}

// testReturnedRecordsAreCopies checks that a caller may modify what it got.
func testReturnedRecordsAreCopies(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutFlow(&orionv1.Flow{Id: "f1", Name: "etl", Tags: []string{"a"}}))
		return tx.PutFlowRun(newRun("r1", 0))
	})
	update(t, s, func(tx store.Tx) error {
		f, err := tx.Flow("f1")
		must(t, err)
		f.Tags[0] = "changed"
		f.Name = "changed"
		r, err := tx.FlowRun("r1")
		must(t, err)
		r.State.Type = orionv1.StateType_STATE_TYPE_RUNNING
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		f, err := tx.Flow("f1")
		must(t, err)
		wantEqual(t, f, &orionv1.Flow{Id: "f1", Name: "etl", Tags: []string{"a"}})
		r, err := tx.FlowRun("r1")
		must(t, err)
		if r.GetState().GetType() != orionv1.StateType_STATE_TYPE_SCHEDULED {
			t.Errorf("stored run changed through a returned copy")
		}
		return nil
	})
}
