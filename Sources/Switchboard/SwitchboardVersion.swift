/// The version this build reports (`switchboard_build_info`, logs).
public enum SwitchboardVersion {
    public static let current = "0.1.0"
}
