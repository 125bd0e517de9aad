package rpc

import (
	"context"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

type tokenService struct {
	orionv1.UnimplementedTokenServiceServer
	svc *Services
}

func (s *tokenService) CreateToken(ctx context.Context, req *orionv1.CreateTokenRequest) (*orionv1.CreateTokenResponse, error) {
	if err := validate.Name("name", req.GetName()); err != nil {
		return nil, err
	}
	if _, ok := orionv1.TokenScope_name[int32(req.GetScope())]; !ok || req.GetScope() == orionv1.TokenScope_TOKEN_SCOPE_UNSPECIFIED {
		return nil, store.Invalidf("scope is required: one of admin, agent, read, run")
	}
	if len(req.GetWorkQueues()) > 0 && req.GetScope() != auth.Agent {
		return nil, store.Invalidf("work_queues restrict agent tokens only; drop them or use scope agent")
	}
	if err := validate.WorkQueueNames("work_queues", req.GetWorkQueues()); err != nil {
		return nil, err
	}
	var secret string
	var tok *store.Token
	err := s.svc.Store.Update(ctx, func(tx store.Tx) (err error) {
		secret, tok, err = auth.Issue(tx, req.GetName(), req.GetScope(), req.GetWorkQueues()...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.svc.Auth.Refresh(ctx); err != nil {
		return nil, err
	}
	s.svc.log(ctx).Info("api token created", "token_id", tok.Meta.GetId(), "token_name", req.GetName(), "scope", auth.ScopeName(req.GetScope()), "by", auth.FromContext(ctx).Name)
	return &orionv1.CreateTokenResponse{Token: tok.Meta, Secret: secret}, nil
}

func (s *tokenService) ListTokens(ctx context.Context, _ *orionv1.ListTokensRequest) (*orionv1.ListTokensResponse, error) {
	toks, err := view(ctx, s.svc.Store, func(tx store.Tx) ([]*store.Token, error) { return tx.ListTokens() })
	resp := &orionv1.ListTokensResponse{}
	for _, t := range toks {
		resp.Tokens = append(resp.Tokens, t.Meta)
	}
	return resp, err
}

func (s *tokenService) RevokeToken(ctx context.Context, req *orionv1.RevokeTokenRequest) (*orionv1.RevokeTokenResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	if err := s.svc.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteToken(req.GetId()) }); err != nil {
		return nil, err
	}
	if err := s.svc.Auth.Refresh(ctx); err != nil {
		return nil, err
	}
	s.svc.log(ctx).Info("api token revoked", "token_id", req.GetId(), "by", auth.FromContext(ctx).Name)
	return &orionv1.RevokeTokenResponse{}, nil
}
