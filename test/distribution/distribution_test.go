// Package distribution holds tests of the files that ship bys-mcp outside Go:
// server.json (the official MCP registry entry) and the MCP Bundle manifest
// (bundle/manifest.json), checked for the fields the registry and mcpb need.
package distribution

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type envVar struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	IsRequired  *bool    `json:"isRequired"`
	IsSecret    *bool    `json:"isSecret"`
	Format      string   `json:"format"`
	Default     string   `json:"default"`
	Choices     []string `json:"choices"`
}

type serverJSON struct {
	Schema      string `json:"$schema"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Version     string `json:"version"`
	Repository  struct {
		URL    string `json:"url"`
		Source string `json:"source"`
	} `json:"repository"`
	Packages []struct {
		RegistryType string `json:"registryType"`
		Identifier   string `json:"identifier"`
		Version      string `json:"version"`
		FileSha256   string `json:"fileSha256"`
		Transport    struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"transport"`
		PackageArguments []struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"packageArguments"`
		EnvironmentVariables []envVar `json:"environmentVariables"`
	} `json:"packages"`
}

type manifestJSON struct {
	ManifestVersion string `json:"manifest_version"`
	Name            string `json:"name"`
	DisplayName     string `json:"display_name"`
	Version         string `json:"version"`
	Description     string `json:"description"`
	Author          struct {
		Name string `json:"name"`
	} `json:"author"`
	Server struct {
		Type       string `json:"type"`
		EntryPoint string `json:"entry_point"`
		MCPConfig  struct {
			Command           string            `json:"command"`
			Args              []string          `json:"args"`
			Env               map[string]string `json:"env"`
			PlatformOverrides map[string]struct {
				Command string `json:"command"`
			} `json:"platform_overrides"`
		} `json:"mcp_config"`
	} `json:"server"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
	Compatibility struct {
		Platforms []string `json:"platforms"`
	} `json:"compatibility"`
	UserConfig map[string]struct {
		Type        string `json:"type"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Sensitive   bool   `json:"sensitive"`
		Required    bool   `json:"required"`
		Default     any    `json:"default"`
	} `json:"user_config"`
}

func readJSON(t *testing.T, rel string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not parse: %v", rel, err)
	}
	return b
}

var (
	// The registry's name pattern, and the GitHub namespace this repository
	// authenticates with (io.github.<owner>/<name>).
	registryName = regexp.MustCompile(`^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`)
	githubName   = regexp.MustCompile(`^io\.github\.[A-Za-z0-9-]+/[a-zA-Z0-9._-]+$`)
	semver       = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	sha256Hex    = regexp.MustCompile(`^[a-f0-9]{64}$`)
	envName      = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

var wantTools = []string{"cancel_campaign", "get_call", "list_calls", "list_campaigns", "pause_campaign", "place_call", "place_calls", "resume_campaign", "retry_campaign", "wait_for_call", "wait_for_campaign"}

func TestServerJSON(t *testing.T) {
	var s serverJSON
	readJSON(t, "server.json", &s)
	var m manifestJSON
	readJSON(t, "bundle/manifest.json", &m)

	if !strings.HasPrefix(s.Schema, "https://static.modelcontextprotocol.io/schemas/") {
		t.Errorf("$schema = %q, want the registry's server.schema.json", s.Schema)
	}
	if !registryName.MatchString(s.Name) || len(s.Name) < 3 || len(s.Name) > 200 {
		t.Errorf("name %q does not match the registry's pattern", s.Name)
	}
	if !githubName.MatchString(s.Name) {
		t.Errorf("name %q is not in the io.github.<owner>/<name> namespace", s.Name)
	}
	if !strings.HasSuffix(s.Name, "/bys-mcp") || !strings.Contains(s.Repository.URL, strings.TrimPrefix(strings.Split(s.Name, "/")[0], "io.github.")+"/bys-mcp") {
		t.Errorf("name %q does not match the repository %q", s.Name, s.Repository.URL)
	}
	if n := len(s.Description); n == 0 || n > 100 {
		t.Errorf("description is %d characters, the registry allows 1 to 100", n)
	}
	if !semver.MatchString(s.Version) {
		t.Errorf("version %q is not a semantic version (the registry refuses ranges and \"latest\")", s.Version)
	}
	if s.Version != m.Version {
		t.Errorf("server.json version %q != bundle/manifest.json version %q", s.Version, m.Version)
	}
	if s.Repository.URL == "" || s.Repository.Source != "github" {
		t.Errorf("repository = %+v, want a github url and source", s.Repository)
	}
	if len(s.Packages) == 0 {
		t.Fatal("no packages")
	}
	transports := map[string]bool{}
	for i, p := range s.Packages {
		if p.RegistryType != "mcpb" {
			t.Errorf("packages[%d].registryType = %q; the registry has no Go type, so the bundle (mcpb) is published", i, p.RegistryType)
		}
		// The official registry accepts mcpb files from GitHub or GitLab releases.
		wantURL := strings.TrimSuffix(s.Repository.URL, "/") + "/releases/download/v" + s.Version + "/bys-mcp-" + s.Version + ".mcpb"
		if p.Identifier != wantURL {
			t.Errorf("packages[%d].identifier = %q, want %q", i, p.Identifier, wantURL)
		}
		if p.Version != s.Version {
			t.Errorf("packages[%d].version = %q, want %q", i, p.Version, s.Version)
		}
		if !sha256Hex.MatchString(p.FileSha256) {
			t.Errorf("packages[%d].fileSha256 = %q, the registry needs the bundle's SHA-256 (64 hex digits) for mcpb", i, p.FileSha256)
		}
		switch p.Transport.Type {
		case "stdio":
			if p.Transport.URL != "" {
				t.Errorf("packages[%d]: stdio transport with a url", i)
			}
		case "streamable-http", "sse":
			if !strings.HasPrefix(p.Transport.URL, "http://127.0.0.1:") && !strings.HasPrefix(p.Transport.URL, "https://") {
				t.Errorf("packages[%d].transport.url = %q", i, p.Transport.URL)
			}
			var tr string
			for _, a := range p.PackageArguments {
				if a.Name == "--transport" {
					tr = a.Value
				}
			}
			if want := map[string]string{"streamable-http": "http", "sse": "sse"}[p.Transport.Type]; tr != want {
				t.Errorf("packages[%d]: %s transport needs the argument --transport %s, got %q", i, p.Transport.Type, want, tr)
			}
		default:
			t.Errorf("packages[%d].transport.type = %q", i, p.Transport.Type)
		}
		transports[p.Transport.Type] = true

		seen := map[string]bool{}
		for _, e := range p.EnvironmentVariables {
			if !envName.MatchString(e.Name) || seen[e.Name] {
				t.Errorf("packages[%d]: bad or repeated environment variable %q", i, e.Name)
			}
			seen[e.Name] = true
			if e.Description == "" || e.IsSecret == nil || e.IsRequired == nil {
				t.Errorf("packages[%d]: %s needs description, isSecret and isRequired", i, e.Name)
			}
			if len(e.Choices) > 0 && e.Default != "" && !slices.Contains(e.Choices, e.Default) {
				t.Errorf("packages[%d]: %s default %q not among its choices", i, e.Name, e.Default)
			}
			if e.IsSecret != nil && *e.IsSecret && e.Default != "" {
				t.Errorf("packages[%d]: secret %s has a default", i, e.Name)
			}
			if e.Name == "BYS_API_KEY" && (e.IsSecret == nil || !*e.IsSecret) {
				t.Errorf("packages[%d]: BYS_API_KEY must be isSecret", i)
			}
			// Only variables the server really reads.
			if !configMentions(t, e.Name) {
				t.Errorf("packages[%d]: %s is not read by the server (config/)", i, e.Name)
			}
		}
		for _, need := range []string{"BYS_API_KEY", "BYS_SANDBOX"} {
			if !seen[need] {
				t.Errorf("packages[%d]: environment variable %s missing", i, need)
			}
		}
	}
	if !transports["stdio"] {
		t.Error("no stdio package: desktop hosts start the bundle over stdio")
	}
}

var configSrc string

func configMentions(t *testing.T, name string) bool {
	t.Helper()
	if configSrc == "" {
		files, _ := filepath.Glob(filepath.Join("..", "..", "config", "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			configSrc += string(b)
		}
	}
	return strings.Contains(configSrc, `"`+name+`"`)
}

func TestBundleManifest(t *testing.T) {
	var m manifestJSON
	readJSON(t, "bundle/manifest.json", &m)
	if m.ManifestVersion == "" || m.Name != "bys-mcp" || m.Description == "" || m.Author.Name == "" {
		t.Errorf("manifest needs manifest_version, name bys-mcp, description and author.name: %+v", m)
	}
	if !semver.MatchString(m.Version) {
		t.Errorf("version %q is not a semantic version", m.Version)
	}
	if m.Server.Type != "binary" {
		t.Errorf("server.type = %q, want binary", m.Server.Type)
	}
	if m.Server.EntryPoint != "server/bys-mcp" || m.Server.MCPConfig.Command != "${__dirname}/server/bys-mcp" {
		t.Errorf("entry point %q / command %q, want server/bys-mcp", m.Server.EntryPoint, m.Server.MCPConfig.Command)
	}
	if got := m.Server.MCPConfig.PlatformOverrides["win32"].Command; got != "${__dirname}/server/bys-mcp.exe" {
		t.Errorf("win32 command = %q, want the .exe", got)
	}
	for _, p := range []string{"darwin", "win32", "linux"} {
		if !slices.Contains(m.Compatibility.Platforms, p) {
			t.Errorf("compatibility.platforms lacks %s", p)
		}
	}
	key, ok := m.UserConfig["api_key"]
	if !ok || key.Type != "string" || !key.Sensitive || key.Title == "" || key.Description == "" {
		t.Errorf("user_config.api_key must be a sensitive string with title and description: %+v", key)
	}
	sb, ok := m.UserConfig["sandbox"]
	if !ok || sb.Type != "boolean" || sb.Default != false {
		t.Errorf("user_config.sandbox must be a boolean defaulting to false: %+v", sb)
	}
	env := m.Server.MCPConfig.Env
	if env["BYS_API_KEY"] != "${user_config.api_key}" || env["BYS_SANDBOX"] != "${user_config.sandbox}" {
		t.Errorf("mcp_config.env must pass the user_config: %v", env)
	}
	for _, a := range m.Server.MCPConfig.Args {
		if strings.Contains(a, "user_config.api_key") {
			t.Error("the API key must not be passed in argv")
		}
	}
	var tools []string
	for _, tl := range m.Tools {
		tools = append(tools, tl.Name)
	}
	slices.Sort(tools)
	if !slices.Equal(tools, wantTools) {
		t.Errorf("manifest tools = %v, want %v", tools, wantTools)
	}
	// The launcher that picks the binary for the machine on macOS and Linux.
	b, err := os.ReadFile(filepath.Join("..", "..", "bundle", "bys-mcp.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#!/bin/sh", "uname -s", "uname -m", `exec "$dir/bys-mcp-$os-$arch" "$@"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("bundle/bys-mcp.sh lacks %q", want)
		}
	}
}

func TestChangelog(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"# Changelog", "Keep a Changelog", "## [Unreleased]", "### Added"} {
		if !strings.Contains(s, want) {
			t.Errorf("CHANGELOG.md lacks %q", want)
		}
	}
}
