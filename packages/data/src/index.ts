// Dataset I/O beside core: npy/npz and tar readers, dataset downloader, synthetic Kaggle-format books.
// Its public surface arrives with the issue that builds it.
export {};
