package dev.streamlab.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The trading calendar behind Lesson 15's custom window (Java, unlike the SQL oracle's). */
class StoreHoursTest {

    private static long utc(String iso) {
        return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    @ParameterizedTest
    @CsvSource({
        "2026-03-20T12:00, 2026-03-20T07:00, 2026-03-20T19:00, true",   // Friday, winter time
        "2026-03-20T19:00, 2026-03-20T19:00, 2026-03-21T07:00, false",  // the closing starts the next period
        "2026-03-22T12:00, 2026-03-21T19:00, 2026-03-23T07:00, false",  // Sunday: Saturday night to Monday
        "2026-03-29T12:00, 2026-03-28T19:00, 2026-03-30T06:00, false",  // summer time starts: 35 hours
        "2026-10-25T12:00, 2026-10-24T18:00, 2026-10-26T07:00, false",  // and ends: 37 hours
    })
    void period(String at, String start, String end, boolean open) {
        assertEquals(new StoreHours.Period(utc(start), utc(end), open), StoreHours.period(utc(at)));
    }

    @Test
    void periodsTileTime() {
        StoreHours.Period period = StoreHours.period(utc("2026-03-16T00:00"));
        for (int i = 0; i < 30; i++) {
            StoreHours.Period next = StoreHours.period(period.endMs());
            assertEquals(period.endMs(), next.startMs());
            assertNotEquals(period.open(), next.open());
            assertTrue(next.endMs() > next.startMs());
            period = next;
        }
    }

    @Test
    void anyEventTimeTheRulesAcceptHasAPeriod() {  // ts_ms is validated as up to 15 digits
        for (long ts : new long[] {0L, 999_999_999_999_999L}) {
            StoreHours.Period period = StoreHours.period(ts);
            assertTrue(period.startMs() <= ts && ts < period.endMs());
        }
    }

    @Test
    void theFunctionGivesTheRowAndPassesNull() {
        Row row = new TradingPeriod().eval(utc("2026-03-20T12:00"));
        assertEquals(Row.of(utc("2026-03-20T07:00"), utc("2026-03-20T19:00"), true), row);
        assertNull(new TradingPeriod().eval(null));
    }
}
