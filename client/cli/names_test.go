package cli

import "testing"

func TestParseDeploymentRef(t *testing.T) {
	const invalid = "Invalid deployment name. Expected '<flow-name>/<deployment-name>'"
	tests := []struct {
		arg     string
		want    deploymentRef
		wantErr string
	}{
		{arg: "hello/daily", want: deploymentRef{Flow: "hello", Name: "daily"}},
		{arg: "  hello/daily ", want: deploymentRef{Flow: "hello", Name: "daily"}},
		{arg: "my flow/my deployment", want: deploymentRef{Flow: "my flow", Name: "my deployment"}},
		{arg: "6f1f3a52-9c1e-4c8e-a4a7-5d3b0f0b8e21", want: deploymentRef{ID: "6f1f3a52-9c1e-4c8e-a4a7-5d3b0f0b8e21"}},
		{arg: "6F1F3A52-9C1E-4C8E-A4A7-5D3B0F0B8E21", want: deploymentRef{ID: "6f1f3a52-9c1e-4c8e-a4a7-5d3b0f0b8e21"}},
		{arg: "hello", wantErr: invalid},
		{arg: "", wantErr: invalid},
		{arg: "/daily", wantErr: invalid},
		{arg: "hello/", wantErr: invalid},
		{arg: "a/b/c", wantErr: invalid},
		{arg: "6f1f3a52-9c1e-4c8e-a4a7-5d3b0f0b8e2", wantErr: invalid},  // one digit short
		{arg: "6f1f3a52x9c1e-4c8e-a4a7-5d3b0f0b8e21", wantErr: invalid}, // bad separator
		{arg: "6f1f3a52-9c1e-4c8e-a4a7-5d3b0f0b8eZZ", wantErr: invalid}, // not hex
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := parseDeploymentRef(tt.arg)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
