/// Where a Google credential came from: for logs, `switchboard check`, and the `source` metric label.
public enum GoogleCredentialSource: Sendable, Hashable, CustomStringConvertible {
    /// LiteLLM's `litellm_params.vertex_credentials`: a file's path, or inline JSON (`path` nil).
    case vertexCredentials(path: String?)
    /// The file `GOOGLE_APPLICATION_CREDENTIALS` names.
    case environmentVariable(path: String)
    /// gcloud's well-known file, written by `gcloud auth application-default login`.
    case gcloud(path: String)
    /// The GCE/GKE/Cloud Run metadata server at `host` (`GCE_METADATA_HOST`, else metadata.google.internal).
    case metadataServer(host: String)

    /// The metric label: a handful of fixed values, never a path.
    public var label: String {
        switch self {
        case .vertexCredentials: "vertex_credentials"
        case .environmentVariable: "GOOGLE_APPLICATION_CREDENTIALS"
        case .gcloud: "gcloud"
        case .metadataServer: "metadata_server"
        }
    }

    /// For people, such as `GOOGLE_APPLICATION_CREDENTIALS (/tmp/key.json)`.
    public var description: String {
        switch self {
        case .vertexCredentials(let path?): "vertex_credentials (\(path))"
        case .vertexCredentials(nil): "vertex_credentials (inline JSON)"
        case .environmentVariable(let path): "GOOGLE_APPLICATION_CREDENTIALS (\(path))"
        case .gcloud(let path): "the gcloud application default credentials (\(path))"
        case .metadataServer(let host): "the metadata server (\(host))"
        }
    }
}
