"""Carol: the same contract written differently (zip into pairs, a list of batches, keyword args)."""
from torch.utils import data


class TextDataset(data.Dataset):
    """Pairs of (sentence, class)."""

    def __init__(self, text, labels):
        super().__init__()
        assert len(text) == len(labels), "one label per sentence"
        self.pairs = list(zip(text, labels))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, idx):
        sentence, label = self.pairs[idx]
        return dict(Text=sentence, Class=label)


def make_loader(dataset, batch_size, shuffle):
    return data.DataLoader(dataset=dataset, shuffle=shuffle, batch_size=batch_size)


def manual_batches(x, y, bs):
    return [(x[i : i + bs], y[i : i + bs]) for i in range(0, x.shape[0], bs)]


if __name__ == "__main__":
    ds = TextDataset(["a", "b", "c"], [0, 1, 0])
    print(next(iter(make_loader(ds, 2, False))))
