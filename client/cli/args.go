package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// exactArgs requires exactly len(names) arguments and names them in the
// error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		return usageError(cmd, args, names)
	}
}

// usageError explains a wrong number of arguments.
func usageError(cmd *cobra.Command, args, names []string) error {
	usage := strings.TrimSuffix(cmd.UseLine(), " [flags]")
	switch {
	case len(args) < len(names):
		return fmt.Errorf("missing argument %s (usage: %s)", strings.Join(names[len(args):], " "), usage)
	case len(names) == 0:
		return fmt.Errorf("unexpected argument '%s' (usage: %s)", args[0], usage)
	}
	return fmt.Errorf("too many arguments: expected %s (usage: %s)", strings.Join(names, " "), usage)
}
