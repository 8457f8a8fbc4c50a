from torch.utils.data import DataLoader, Dataset


class CustomDataset(Dataset):
    def __init__(self, text, labels):
        self.text = text
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"Text": self.text[idx], "Class": self.labels[idx]}


def make_loader(dataset, batch_size, shuffle):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def manual_batches(x, y, bs):
    n = x.shape[0]
    for i in range(n // bs):  # drops the leftover samples
        yield x[i * bs:(i + 1) * bs], y[i * bs:(i + 1) * bs]
