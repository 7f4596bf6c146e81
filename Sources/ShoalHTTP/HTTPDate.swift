import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// HTTP dates (RFC 9110, 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate).
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The IMF-fixdate of `seconds` since 1970 (UTC).
    public static func format(secondsSince1970 seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// The IMF-fixdate of now, for the `Date` field an origin server sends. Formatted
    /// once a second; any thread.
    public static func now() -> String {
        let seconds = Int(time(nil))
        if let text = lastNow.withLock({ $0.seconds == seconds ? $0.text : nil }) { return text }
        let text = format(secondsSince1970: seconds)
        lastNow.withLock { $0 = (seconds, text) }
        return text
    }

    private static let lastNow = Mutex<(seconds: Int, text: String)>((-1, ""))

    private static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// The seconds since 1970 of an HTTP date: IMF-fixdate, or the obsolete RFC 850
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms
    /// a recipient must still accept; `nil` for anything else (a recipient ignores a
    /// date it cannot parse).
    public static func parse(_ text: String) -> Int? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        if fields.count == 6, fields[0].count == 4, fields[0].hasSuffix(","), days.contains(String(fields[0].dropLast())),
            fields[5] == "GMT", fields[1].count == 2, let day = Int(fields[1]),
            let month = months.firstIndex(of: String(fields[2])), fields[3].count == 4, let year = Int(fields[3])
        {
            return seconds(year: year, month: month, day: day, clock: fields[4])
        }
        if fields.count == 4, fields[0].hasSuffix(","), longDays.contains(String(fields[0].dropLast())), fields[3] == "GMT" {
            let date = fields[1].split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 3, date[0].count == 2, let day = Int(date[0]), let month = months.firstIndex(of: String(date[1])),
                date[2].count == 2, let twoDigits = Int(date[2])
            else { return nil }
            // RFC 9110, 5.6.7: a year more than 50 years ahead is the last one in the past.
            var now = tm()
            var clock = time(nil)
            gmtime_r(&clock, &now)
            let thisYear = Int(now.tm_year) + 1900
            var year = thisYear - thisYear % 100 + twoDigits
            if year > thisYear + 50 { year -= 100 }
            return seconds(year: year, month: month, day: day, clock: fields[2])
        }
        // asctime: the day of the month is padded with a space, which splits into an empty field.
        let words = fields.filter { !$0.isEmpty }
        if words.count == 5, days.contains(String(words[0])), let month = months.firstIndex(of: String(words[1])),
            let day = Int(words[2]), words[4].count == 4, let year = Int(words[4])
        {
            return seconds(year: year, month: month, day: day, clock: words[3])
        }
        return nil
    }

    private static func seconds(year: Int, month: Int, day: Int, clock text: Substring) -> Int? {
        let clock = text.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let hour = Int(clock[0]), let minute = Int(clock[1]),
            let second = Int(clock[2]), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int(timegm(&parts))
    }
}
