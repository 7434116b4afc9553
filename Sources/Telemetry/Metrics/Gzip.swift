import CZlib

/// gzip through the system zlib, for `/metrics` and OTLP bodies.
public enum Gzip {
    /// `bytes`, gzip-compressed.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        // zlib requires the z_stream not to move while in use: heap-allocate it.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        // windowBits 15 + 16 selects the gzip wrapper.
        guard czlib_deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK else { return [] }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(bytes.count))) + 32)
        var input = bytes
        let written = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer -> Int in
                stream.pointee.next_in = inputBuffer.baseAddress
                stream.pointee.avail_in = UInt32(inputBuffer.count)
                stream.pointee.next_out = outputBuffer.baseAddress
                stream.pointee.avail_out = UInt32(outputBuffer.count)
                guard deflate(stream, Z_FINISH) == Z_STREAM_END else { return 0 }
                return outputBuffer.count - Int(stream.pointee.avail_out)
            }
        }
        return Array(output.prefix(written))
    }
}
