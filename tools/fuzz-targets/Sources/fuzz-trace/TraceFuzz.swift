// libFuzzer target: the pcap reader (SluicePcap over libpcap) and sluice-trace's analysis and
// reports, on mutated captures.
//
// The input is a capture file (pcap or pcapng: the seeds are cut from Fixtures/*.pcap*). It is
// written to a file in /dev/shm (libpcap reads files) and analysed as `sluice-trace FILE` would,
// with `--check`, and in turn as text, JSON, with the timeline and with the SVG graph. Property:
// no trap, no sanitizer report, an exit status of 0, 1 or 2. Only the Swift code is
// instrumented (Debian's libpcap is not), so coverage guides through the reader's and the
// analyser's code.
import SluiceTrace
import Glibc

let path = "/dev/shm/s13-fuzz-trace-\(getpid()).pcap"
let svgPath = "/dev/shm/s13-fuzz-trace-\(getpid()).svg"

@_cdecl("LLVMFuzzerTestOneInput")
public func traceFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("fuzz-trace: cannot write \(path)") }
    var off = 0
    while off < size {
        let n = write(fd, data + off, size - off)
        guard n > 0 else { break }
        off += n
    }
    close(fd)
    // The last byte chooses the report (the first bytes are the file's magic number).
    let mode = data[size - 1] % 4
    var characters = 0
    let status = SluiceTraceCLI.run(
        file: path, json: mode == 1, timeline: mode == 2, svg: mode == 3 ? svgPath : nil,
        check: true, connection: nil, output: { characters += $0.utf8.count })
    guard (0...2).contains(status) else { fatalError("fuzz-trace: exit status \(status)") }
    return 0
}
