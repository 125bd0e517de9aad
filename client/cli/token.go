package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newTokenCommand is `orion token create|ls|revoke`.
func newTokenCommand(m *meta) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens (authentication is on once a token exists)",
		Args:  noArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(newTokenCreateCommand(m), newTokenListCommand(m), newTokenRevokeCommand(m))
	return cmd
}

func newTokenCreateCommand(m *meta) *cobra.Command {
	var name, scope, output string
	var queues []string
	cmd := &cobra.Command{
		Use:   "create --scope admin|agent|read|run --name NAME [--work-queue Q]...",
		Short: "Create a token and print its secret (shown only this once)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			s, ok := orionv1.TokenScope_value["TOKEN_SCOPE_"+strings.ToUpper(scope)]
			if !ok || s == 0 {
				return fmt.Errorf("invalid --scope %q: use admin, agent, read or run", scope)
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Tokens.CreateToken(cmd.Context(), &orionv1.CreateTokenRequest{Name: name, Scope: orionv1.TokenScope(s), WorkQueues: queues})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProto(cmd.OutOrStdout(), resp, true)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created token '%s' (%s) with scope %s%s.\n", resp.GetToken().GetName(), resp.GetToken().GetId(), scopeName(resp.GetToken().GetScope()), queueSuffix(resp.GetToken().GetWorkQueues()))
			fmt.Fprintf(out, "Secret (shown only once; clients read it from ORION_API_KEY):\n%s\n", resp.GetSecret())
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for the token (required)")
	cmd.Flags().StringVar(&scope, "scope", "", "admin, agent, read or run (required)")
	cmd.Flags().StringArrayVar(&queues, "work-queue", nil, "agent tokens: serve only this work queue (repeatable; default any)")
	cmd.MarkFlagRequired("name")  //nolint:errcheck // the flag exists
	cmd.MarkFlagRequired("scope") //nolint:errcheck // the flag exists
	addOutputFlag(cmd, &output)
	return cmd
}

func newTokenListCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List tokens (never their secrets)",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Tokens.ListTokens(cmd.Context(), &orionv1.ListTokensRequest{})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), resp.GetTokens())
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "ID", "SCOPE", "WORK QUEUES", "CREATED")
			for _, tok := range resp.GetTokens() {
				queues := "-"
				if len(tok.GetWorkQueues()) > 0 {
					queues = strings.Join(tok.GetWorkQueues(), ",")
				}
				t.row(tok.GetName(), tok.GetId(), scopeName(tok.GetScope()), queues, fmtTime(tok.GetCreateTime(), m.loc, layoutDateTime))
			}
			return t.flush()
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func newTokenRevokeCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; requests carrying it fail from then on",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Tokens.RevokeToken(cmd.Context(), &orionv1.RevokeTokenRequest{Id: args[0]}); err != nil {
				return apiErr(err, "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s\n", args[0])
			return nil
		},
	}
}

// queueSuffix describes a token's work queue restriction for messages.
func queueSuffix(queues []string) string {
	if len(queues) == 0 {
		return ""
	}
	return " for work queues " + strings.Join(queues, ", ")
}

func scopeName(s orionv1.TokenScope) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TOKEN_SCOPE_"))
}
