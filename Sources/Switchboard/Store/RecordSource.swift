/// Where a key or team was declared. The admin API's are changed there; the config file's belong to the file:
/// each load brings them in line with it, and one the file no longer names is deleted.
enum RecordSource: String, Sendable, Hashable {
    case api
    case config
}
