package oauth

import "net/http"

// resourceMetadata is the protected resource metadata (RFC 9728). Every
// field is always set: the documents carry no null.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
}

// authServerMetadata is the authorization server metadata (RFC 8414), also
// served as the OpenID discovery document.
type authServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

var (
	scopesSupported      = []string{ScopeRead, ScopeWrite}
	clientAuthMethods    = []string{"none", "client_secret_post", "client_secret_basic"}
	supportedGrantTypes  = []string{"authorization_code", "refresh_token"}
	metadataCacheControl = "public, max-age=300"
)

func (s *Server) resourceMetadata() resourceMetadata {
	return resourceMetadata{
		Resource:               s.resource,
		AuthorizationServers:   []string{s.issuer},
		ScopesSupported:        scopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "By Your Side phone calls",
	}
}

func (s *Server) authServerMetadata() authServerMetadata {
	return authServerMetadata{
		Issuer:                                     s.issuer,
		AuthorizationEndpoint:                      s.issuer + PathAuthorize,
		TokenEndpoint:                              s.issuer + PathToken,
		RegistrationEndpoint:                       s.issuer + PathRegister,
		RevocationEndpoint:                         s.issuer + PathRevoke,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        supportedGrantTypes,
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          clientAuthMethods,
		RevocationEndpointAuthMethodsSupported:     clientAuthMethods,
		ScopesSupported:                            scopesSupported,
		ClientIDMetadataDocumentSupported:          true,
		AuthorizationResponseIssParameterSupported: true,
	}
}

func (s *Server) handleResourceMetadata(w http.ResponseWriter, r *http.Request) {
	writeMetadata(w, s.resourceMetadata())
}

func (s *Server) handleAuthServerMetadata(w http.ResponseWriter, r *http.Request) {
	writeMetadata(w, s.authServerMetadata())
}

func writeMetadata(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", metadataCacheControl)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, v)
}
