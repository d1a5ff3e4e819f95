// Pure domain code, no I/O: boxes, IoU, NMS, voting, Kaggle formats, unicode map, book ids and the book-title split, sampling, F1 metric, reading order.
// Its public surface arrives with the issue that builds it.
export {};
