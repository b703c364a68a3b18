package dev.streamlab.flink;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.Set;

/**
 * The store's trading calendar: open Monday to Saturday 08:00-20:00 in Berlin, closed otherwise.
 *
 * <p>Time splits into alternating trading periods: open, then closed until the next opening (a
 * Saturday's closing runs to Monday morning), in local time with daylight saving, so a closed
 * period lasts 12, 36 or 37 hours, or an hour less or more on the nights the clocks change.
 */
public final class StoreHours {

    // --8<-- [start:store_calendar]
    public static final ZoneId STORE_ZONE = ZoneId.of("Europe/Berlin");
    public static final LocalTime OPENS = LocalTime.of(8, 0);
    public static final LocalTime CLOSES = LocalTime.of(20, 0);
    public static final Set<DayOfWeek> CLOSED_DAYS = EnumSet.of(DayOfWeek.SUNDAY);

    /** A trading period: from {@code startMs} to {@code endMs} (exclusive), open or closed. */
    public record Period(long startMs, long endMs, boolean open) {}

    /** The trading period holding {@code tsMs}, found among the openings and closings of the week around it. */
    public static Period period(long tsMs) {
        LocalDate day = Instant.ofEpochMilli(tsMs).atZone(STORE_ZONE).toLocalDate();
        long start = Long.MIN_VALUE;
        long end = Long.MAX_VALUE;
        boolean open = false;
        for (int offset = -3; offset <= 3; offset++) {
            LocalDate date = day.plusDays(offset);
            if (CLOSED_DAYS.contains(date.getDayOfWeek())) {
                continue;
            }
            for (LocalTime at : new LocalTime[] {OPENS, CLOSES}) {
                long boundary = date.atTime(at).atZone(STORE_ZONE).toInstant().toEpochMilli();
                if (boundary <= tsMs && boundary > start) {
                    start = boundary;
                    open = at.equals(OPENS);
                } else if (boundary > tsMs && boundary < end) {
                    end = boundary;
                }
            }
        }
        return new Period(start, end, open);
    }
    // --8<-- [end:store_calendar]

    private StoreHours() {}
}
