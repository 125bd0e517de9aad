package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/store"
)

// MaxFlowSourceSize bounds a pushed flow script (8 MiB).
const MaxFlowSourceSize = 8 << 20

type flowService struct {
	orionv1.UnimplementedFlowServiceServer
	svc *Services
}

func (s *flowService) CreateFlow(ctx context.Context, req *orionv1.CreateFlowRequest) (*orionv1.CreateFlowResponse, error) {
	resp := &orionv1.CreateFlowResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		resp.Flow, resp.Created, err = deployments.EnsureFlow(tx, req.GetName(), req.GetTags())
		return err
	})
	return resp, err
}

func (s *flowService) GetFlow(ctx context.Context, req *orionv1.GetFlowRequest) (*orionv1.GetFlowResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.Flow, error) { return tx.Flow(req.GetId()) })
	return &orionv1.GetFlowResponse{Flow: v}, err
}

func (s *flowService) GetFlowByName(ctx context.Context, req *orionv1.GetFlowByNameRequest) (*orionv1.GetFlowByNameResponse, error) {
	if err := required("name", req.GetName()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.Flow, error) { return tx.FlowByName(req.GetName()) })
	return &orionv1.GetFlowByNameResponse{Flow: v}, err
}

func (s *flowService) ListFlows(ctx context.Context, req *orionv1.ListFlowsRequest) (*orionv1.ListFlowsResponse, error) {
	limit, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &orionv1.ListFlowsResponse{}
	err = s.svc.Store.View(ctx, func(tx store.Tx) error {
		flows, err := tx.ListFlows(after, limit+1)
		if err != nil {
			return err
		}
		if len(flows) > limit {
			flows = flows[:limit]
			resp.NextPageToken = encodeToken(flows[limit-1].GetName())
		}
		resp.Flows = flows
		return nil
	})
	return resp, err
}

func (s *flowService) PutFlowSource(ctx context.Context, req *orionv1.PutFlowSourceRequest) (*orionv1.PutFlowSourceResponse, error) {
	if req.GetText() == "" {
		return nil, store.Invalidf("text is required: the flow script is empty")
	}
	if len(req.GetText()) > MaxFlowSourceSize {
		return nil, store.Invalidf("text is %d bytes; flow scripts are limited to %d bytes", len(req.GetText()), MaxFlowSourceSize)
	}
	sum := sha256.Sum256([]byte(req.GetText()))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutFlowSource(&store.FlowSource{Digest: digest, FileName: req.GetFileName(), Text: req.GetText()})
	})
	return &orionv1.PutFlowSourceResponse{Digest: digest}, err
}

func (s *flowService) GetFlowSource(ctx context.Context, req *orionv1.GetFlowSourceRequest) (*orionv1.GetFlowSourceResponse, error) {
	hexPart, ok := strings.CutPrefix(req.GetDigest(), "sha256:")
	if !ok || len(hexPart) != 64 {
		return nil, store.Invalidf("digest %q is malformed: expected sha256:<64 hex digits>", req.GetDigest())
	}
	resp := &orionv1.GetFlowSourceResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) error {
		src, err := tx.FlowSource(req.GetDigest())
		if err != nil {
			return err
		}
		resp.Digest, resp.Text, resp.FileName = src.Digest, src.Text, src.FileName
		return nil
	})
	return resp, err
}
