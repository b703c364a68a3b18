package dev.streamlab.kstreams;

/** One line of a valid order (Lesson 14's flatMap), the columns of {@code l14-items-*}. */
public record LineItem(String orderId, int lineNo, String customerId, String productId, String category,
                       int quantity, long unitPriceCents, long lineTotalCents, long tsMs) {
}
